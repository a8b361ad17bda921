/* SPDX-License-Identifier: MIT */
/*
 * ciov-perf: the perftest-like benchmark of libciov. Shared declarations of
 * its parts: args (command line), oob (the out-of-band TCP exchange), res
 * (endpoint, buffers, CQs, QPs and their connection), cq (waiting for
 * completions), bw and lat (the tests), out (statistics and reports).
 *
 * Exit codes: 0 done, 1 a failure (setup, peer, completion error),
 * 2 a bad command line.
 */
#ifndef CIOV_TOOLS_PERF_H
#define CIOV_TOOLS_PERF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <ciov/ciov.h>

enum {
	PERF_EXIT_OK = 0,
	PERF_EXIT_FAIL = 1,
	PERF_EXIT_USAGE = 2,
};

#define PERF_TESTS(X) X(WRITE, write) X(READ, read) X(SEND, send) X(ATOMIC, atomic)
enum perf_test {
#define X(N, n) PERF_TEST_##N,
	PERF_TESTS(X)
#undef X
	PERF_TEST_MAX
};

#define PERF_KINDS(X) X(BW, bw) X(LAT, lat)
enum perf_kind {
#define X(N, n) PERF_KIND_##N,
	PERF_KINDS(X)
#undef X
	PERF_KIND_MAX
};

#define PERF_DEFAULT_PORT 18515		/* perftest's */
#define PERF_DEFAULT_SIZE 65536		/* perftest's for bw */
#define PERF_DEFAULT_LAT_SIZE 2		/* perftest's for lat */
#define PERF_ATOMIC_SIZE 8		/* IBA atomics are 64-bit */
#define PERF_DEFAULT_ITERS_BW 5000	/* perftest's */
#define PERF_DEFAULT_ITERS_LAT 1000	/* perftest's */
#define PERF_DEFAULT_TX_DEPTH 128	/* perftest's for bw */
#define PERF_DEFAULT_INLINE_LAT 220	/* perftest's for write/send lat */
#define PERF_MAX_QPS 64
#define PERF_MAX_SIZE (1u << 30)	/* one message; buffers hold 2 per QP */
#define PERF_MAX_ITERS (1ull << 40)
#define PERF_MAX_TX_DEPTH 8192
#define PERF_MAX_DURATION 86400
#define PERF_ALL_MIN_SHIFT 1		/* --all: 2 B ... */
#define PERF_ALL_MAX_SHIFT 23		/* ... 8 MiB, as perftest -a */

/* Test parameters: what the client sends and the server adopts. */
struct perf_params {
	enum perf_test test;
	enum perf_kind kind;
	uint64_t size;	   /* bytes; with all: unused */
	uint64_t iters;	   /* per QP; 0 with duration */
	uint32_t duration; /* seconds, 0 = run iters */
	uint32_t num_qps;
	uint32_t tx_depth;
	uint32_t inline_max;
	uint8_t sl;
	uint8_t mtu; /* enum ciov_mtu */
	bool all;
	bool verify;
};

/* The whole command line. */
struct perf_opts {
	struct perf_params p;
	const char *server;	 /* NULL: this side is the server */
	const char *endpoint;	 /* --endpoint, else $CIOV_ENDPOINT */
	const char *runtime_dir; /* NULL: libciov's default */
	uint16_t port;
	bool event; /* completion channel instead of busy polling */
	bool native; /* attach to provisioned resources (ciov-hv) */
	bool json;
	bool inline_given; /* --inline was given (else a per-test default) */
};

const char *perf_test_name(enum perf_test t);
const char *perf_kind_name(enum perf_kind k);

/* ---- args.c ---- */

/* Parses argv into *o (getenv for the endpoint default). Returns 0, or
 * PERF_EXIT_USAGE after printing the reason to ERR, or -1 for --help /
 * --version (printed to OUT): the caller exits 0. */
int perf_parse_args(int argc, char **argv, struct perf_opts *o, FILE *out, FILE *err);
void perf_usage(FILE *f);
/* "64K" / "1M" / "4096": bytes (K and M are powers of 1024). 0 or -EINVAL. */
int perf_parse_size(const char *s, uint64_t *ret);
/* The sizes a run covers: --all gives 2..8 MiB (8 for atomic), else one.
 * Returns the count written to sizes (at most max). */
int perf_sizes(const struct perf_params *p, uint64_t *sizes, int max);
/* The largest size of the run. */
uint64_t perf_max_size(const struct perf_params *p);

/* ---- oob.c ---- */

/* The connection facts each side sends after the parameters. */
struct perf_conn {
	uint8_t gid[16];
	uint32_t psn;
	uint32_t rkey;
	uint64_t addr;	   /* iova of the buffer */
	uint64_t buf_size; /* bytes registered at addr */
	uint32_t num_qps;
	uint32_t qpn[PERF_MAX_QPS];
};

enum perf_msg_type {
	PERF_MSG_READY = 1, /* start of a size */
	PERF_MSG_DONE = 2,  /* end of a size (value: a count) */
};

/* Server: a TCP listener on all addresses (IPv6 dual stack, else IPv4).
 * Returns the fd or -errno. Port 0 picks one; see perf_oob_port(). */
int perf_oob_listen(uint16_t port);
int perf_oob_port(int fd);
/* Accepts one client and closes the listener. fd or -errno. */
int perf_oob_accept(int lfd);
/* Client: connects to host:port, retrying for up to retry_ms while the
 * server is not listening yet. fd or -errno. */
int perf_oob_connect(const char *host, uint16_t port, int retry_ms);

/* Serialization (fixed little-endian layouts, see oob.c). decode returns 0
 * or -EPROTO (not ciov-perf, other version) / -EINVAL (bad field) and
 * writes why to WHY. */
size_t perf_params_wire_size(void);
void perf_params_encode(const struct perf_params *p, void *wire);
int perf_params_decode(const void *wire, struct perf_params *p, char *why, size_t len);
size_t perf_conn_wire_size(void);
void perf_conn_encode(const struct perf_conn *c, void *wire);
int perf_conn_decode(const void *wire, struct perf_conn *c, char *why, size_t len);

/* Exchanges: the client sends first, the server answers. 0 or -1 after
 * printing why. The server adopts the client's parameters, after checking
 * that TEST and KIND match its own (a mismatch is reported on both sides). */
int perf_oob_params_client(int fd, const struct perf_params *mine, FILE *err);
int perf_oob_params_server(int fd, struct perf_params *mine, FILE *err);
int perf_oob_conn(int fd, bool client, const struct perf_conn *mine, struct perf_conn *peer,
		  FILE *err);

/* Barrier messages. recv blocks; poll returns 1 with a message, 0 if none
 * has arrived yet, -1 on error (printed). */
int perf_oob_send_msg(int fd, enum perf_msg_type type, uint64_t value);
int perf_oob_recv_msg(int fd, enum perf_msg_type want, uint64_t *value);
int perf_oob_poll_msg(int fd, enum perf_msg_type want, uint64_t *value);
/* Both sides: send TYPE, receive TYPE. 0 or -1. */
int perf_oob_sync(int fd, enum perf_msg_type type, uint64_t mine, uint64_t *peer);

/* ---- out.c ---- */

struct perf_bw_result {
	uint64_t bytes; /* message size */
	uint64_t iters; /* messages per QP (completed; the mean with --duration) */
	uint64_t msgs;	/* messages completed, all QPs */
	uint32_t num_qps;
	double seconds;	       /* first post to last completion */
	double bw_bytes_per_sec;
	double bw_peak_bytes_per_sec;
	double msg_per_sec;
};

struct perf_lat_result {
	uint64_t bytes;
	uint64_t iters; /* samples */
	double t_min_us, t_max_us, t_typical_us, t_avg_us, t_stdev_us;
	double t_p99_us, t_p999_us;
};

/* From per-iteration samples in ns (sorted in place). The samples are
 * already the reported quantity (RTT or RTT/2). */
void perf_lat_stats(double *samples_ns, size_t n, uint64_t bytes, struct perf_lat_result *r);
/* Peak: the best rate over any window of at least min_msgs messages,
 * between the (time, messages completed) points of signaled completions. */
double perf_bw_peak(const double *t_sec, const uint64_t *msgs, size_t n, uint64_t min_msgs,
		    uint64_t bytes);

void perf_print_banner(FILE *f, const struct perf_opts *o);
void perf_print_bw_header(FILE *f, const struct perf_opts *o);
void perf_print_bw(FILE *f, const struct perf_opts *o, const struct perf_bw_result *r);
void perf_print_lat_header(FILE *f, const struct perf_opts *o);
void perf_print_lat(FILE *f, const struct perf_opts *o, const struct perf_lat_result *r);
void perf_print_footer(FILE *f, const struct perf_opts *o);

/* ---- res.c ---- */

/* One CQ and whether it is armed (event mode). */
struct perf_cq {
	struct ciov_cq *cq;
	bool armed;
};

struct perf_res {
	struct ciov_adapter *ad;
	struct ciov_endpoint *ep;
	struct ciov_endpoint_attr ep_attr;
	struct ciov_pd *pd;
	struct ciov_comp_channel *ch; /* event mode */
	struct perf_cq scq, rcq;
	struct ciov_qp *qp[PERF_MAX_QPS];
	uint32_t num_qps;
	uint32_t sq_depth, rq_depth;
	uint32_t rq_posted[PERF_MAX_QPS]; /* receives outstanding per QP */
	uint8_t *buf;	 /* num_qps x [tx slot][rx slot] */
	size_t buf_size;
	size_t slot;	 /* bytes per slot */
	struct ciov_mr *mr;
	struct ciov_seg *seg; /* native: the provisioned memory */
	uint32_t psn;
	struct perf_conn peer;
};

/* Opens the adapter and endpoint (before any peer is known). 0 or -1. */
int perf_res_open(struct perf_res *r, const struct perf_opts *o);
/* Buffers, MR, CQs, QPs for the parameters; fills *mine. 0 or -1. */
int perf_res_setup(struct perf_res *r, struct perf_opts *o, struct perf_conn *mine);
/* RESET -> INIT -> RTR -> RTS towards the peer. 0 or -1. */
int perf_res_connect(struct perf_res *r, const struct perf_opts *o, const struct perf_conn *peer);
void perf_res_close(struct perf_res *r);

static inline uint8_t *perf_tx(const struct perf_res *r, uint32_t q)
{
	return r->buf + (size_t)q * 2 * r->slot;
}

static inline uint8_t *perf_rx(const struct perf_res *r, uint32_t q)
{
	return perf_tx(r, q) + r->slot;
}

/* The peer's slots (as the peer lays its buffer out: the same way). */
static inline uint64_t perf_peer_tx(const struct perf_res *r, uint32_t q)
{
	return r->peer.addr + (uint64_t)q * 2 * r->slot;
}

static inline uint64_t perf_peer_rx(const struct perf_res *r, uint32_t q)
{
	return perf_peer_tx(r, q) + r->slot;
}

/* The iova of a local address inside the buffer. */
static inline uint64_t perf_iova(const struct perf_res *r, const void *p)
{
	return r->mr->iova + (uint64_t)((const uint8_t *)p - r->buf);
}

/* ---- cq.c ---- */

/* Polls up to n completions from C. When there are none: with nowait,
 * returns 0; else yields the CPU and polls again (busy mode: sched_yield(),
 * since the engine needs a core of the two) or arms the CQ and sleeps on
 * the completion channel (event mode). With stop_fd >= 0 it also returns 0
 * once stop_fd is readable (the peer's out-of-band message). Returns the
 * count, or -1 after printing why. Every returned completion has status
 * SUCCESS: a failed one is printed with its status name (-1). */
int perf_cq_wait(struct perf_res *r, const struct perf_opts *o, struct perf_cq *c, int n,
		 struct ciov_wc *wc, bool nowait, int stop_fd);
/* True when fd has something to read (does not block). */
bool perf_readable(int fd);
/* Posts WR on QP q; 0 or -1 after printing why. */
int perf_post_send(struct perf_res *r, uint32_t q, struct ciov_send_wr *wr);
int perf_post_recv(struct perf_res *r, uint32_t q, uint64_t wr_id, void *addr, uint32_t len);

/* Tops up the receives of every QP to rq_depth, all into its rx slot. */
int perf_fill_recvs(struct perf_res *r);

/* ---- pattern (verify), in out.c ---- */

/* Fills dst with the pattern of (seed, iteration). */
void perf_pattern_fill(uint8_t *dst, size_t len, uint64_t seed, uint64_t iter);
/* Index of the first byte that differs from the pattern, or -1. */
long perf_pattern_check(const volatile uint8_t *src, size_t len, uint64_t seed, uint64_t iter);

/* ---- bw.c, lat.c ---- */

/* The context of one run. */
struct perf_run {
	struct perf_opts *o;
	struct perf_res *r;
	int fd; /* out-of-band socket */
	bool client;
	uint64_t peer_done; /* value of a DONE read while waiting */
};

int perf_run_bw(struct perf_run *run, uint64_t size);
int perf_run_lat(struct perf_run *run, uint64_t size);

/* Monotonic clock in seconds. */
double perf_now(void);

#endif
