/* SPDX-License-Identifier: MIT */
/*
 * Shared setup for the data-path tests: one real ciovd per test program,
 * tenants (each its own endpoint, passthrough or native), their memory, and
 * RC/UD queue pairs connected through the adapter's loopback placement.
 *
 * Passthrough tenants create everything themselves and register malloc'ed
 * memory. Native tenants get what the manager (this process, on the admin
 * socket) provisions: a PD, a memfd segment with one MR over all of it,
 * CQs, SRQs and QPs; the tenant opens them with ciov_open_*() and connects
 * its QPs itself. A test sees the same struct fx_tenant / fx_qp either way,
 * so every data-path test loops over both modes.
 */
#ifndef CIOV_TEST_DATA_FIXTURE_H
#define CIOV_TEST_DATA_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ciov/ciov.h>

#include "harness.h"

/* How long any wait for a completion may take before the test fails. */
#define FX_TIMEOUT_MS 10000
/* SGEs per WQE of the fixture's QPs (the matrix's "max"). */
#define FX_MAX_SGE 4
/* Work requests per queue of the fixture's QPs. */
#define FX_DEPTH 64
/* Where native tenants' memory lives in their I/O space: far from any
 * address of this process, so that an iova/pointer mix-up shows. */
#define FX_NATIVE_IOVA 0x100000000000ull

extern struct th_daemon fx_d;
/* The fabric placement (CIOV_TEST_PLACEMENT=fabric): a second ciovd in a
 * second network namespace joined to the first by a veth pair, a fabric
 * port on each; tenants alternate between the two adapters, so every pair
 * a test connects crosses the fabric. */
extern struct th_daemon fx_d2;
extern bool fx_fabric;
/* The largest UD message: the path MTU (4096 on loopback). */
size_t fx_ud_mtu(void);
extern struct ciov_adapter *fx_ad;
extern int fx_skipped;

/* The modes every data-path test runs in. */
extern const enum ciov_mode fx_modes[2];
const char *fx_mode_name(enum ciov_mode mode);

/* Group fixtures: start ciovd / stop it, failing if it does not exit 0
 * (a sanitizer report makes it exit non-zero). */
int fx_group_setup(void **state);
int fx_group_teardown(void **state);

/* Runs TESTS with the group fixtures: exit 1 if any failed, 77 if any
 * skipped (each skip prints why), else 0. */
#define FX_RUN(tests)                                                          \
	fx_result(cmocka_run_group_tests(tests, fx_group_setup, fx_group_teardown))
int fx_result(int failed);
#define FX_SKIP(...)                                                           \
	do {                                                                   \
		printf("SKIP: " __VA_ARGS__);                                  \
		printf("\n");                                                  \
		fx_skipped++;                                                  \
		skip();                                                        \
	} while (0)

/* A tenant: an endpoint of its own, a PD and LEN bytes of registered
 * memory (one MR with every access right over all of it). */
struct fx_tenant {
	char name[32];
	struct th_daemon *d;	 /* its adapter's ciovd */
	struct ciov_adapter *ad; /* and libciov's handle on it */
	enum ciov_mode mode;
	struct ciov_endpoint *ep;
	uint8_t gid[16];
	uint32_t max_sge;
	struct ciov_pd *pd;
	uint32_t pd_h; /* native: the provisioned handle */
	uint8_t *buf;  /* this process's address of the memory */
	uint64_t iova; /* the adapter's address of buf[0] */
	size_t len;
	struct ciov_mr *mr;
};

/* Adds endpoint NAME in MODE and opens it as a tenant with LEN bytes of
 * memory (asserts). */
void fx_tenant_new(struct fx_tenant *t, const char *name, enum ciov_mode mode, size_t len);
/* Closes the tenant and deletes its endpoint (with what was provisioned). */
void fx_tenant_free(struct fx_tenant *t);

/* A further PD of T (provisioned in native mode). */
struct ciov_pd *fx_pd_new(struct fx_tenant *t, uint32_t *handle);
/* An MR over buf[OFF, OFF+LEN) in PD with ACCESS (asserts). PD_H is the
 * native handle of PD (t->pd_h for the tenant's first PD). */
struct ciov_mr *fx_mr_new(struct fx_tenant *t, struct ciov_pd *pd, uint32_t pd_h, size_t off,
			  size_t len, unsigned access);
/* Deregisters (passthrough) or releases and deregisters (native). */
void fx_mr_free(struct fx_tenant *t, struct ciov_mr *mr);

/* A CQ of T with CQE entries bound to channel CH (may be NULL). */
struct ciov_cq *fx_cq_new(struct fx_tenant *t, uint32_t cqe, struct ciov_comp_channel *ch);
/* An SRQ of T in its PD. */
struct ciov_srq *fx_srq_new(struct fx_tenant *t, uint32_t max_wr, uint32_t max_sge);

struct fx_qp {
	struct fx_tenant *t;
	struct ciov_cq *scq, *rcq;
	struct ciov_qp *qp;
	struct ciov_ah *ah; /* UD: the peer's address, set by fx_connect_ud */
	uint32_t peer_qpn;
};

struct fx_qp_opts {
	enum ciov_qp_type type;
	struct ciov_srq *srq;
	struct ciov_comp_channel *ch; /* both CQs bound to it */
	uint32_t depth;		      /* 0: FX_DEPTH */
	uint32_t cqe;		      /* 0: 4 * depth */
	struct ciov_cq *scq, *rcq;    /* given: use these instead of new ones */
};

/* A QP of T in its PD with its own send and receive CQs (asserts). */
void fx_qp_new(struct fx_tenant *t, const struct fx_qp_opts *o, struct fx_qp *q);
void fx_qp_free(struct fx_qp *q);

/* Connection parameters of one side (IBA 11.2.4.2 / verbs names). */
struct fx_conn {
	uint32_t access; /* qp_access_flags: what this QP lets its peer do */
	uint8_t min_rnr_timer;
	uint8_t rnr_retry;
	uint8_t timeout;
	uint8_t retry_cnt;
};
/* Everything allowed, RNR: 0.01 ms timer and infinite retries; local ACK
 * timeout 67 ms, 7 retries. */
extern const struct fx_conn fx_conn_default;

/* RESET -> INIT -> RTR -> RTS towards PEER (dgid = peer's GID, dest_qp_num
 * = peer's QPN). C NULL: fx_conn_default. */
/* fx_connect(), but the error of the modify to RTR is returned (0: the
 * QP is in RTS), not asserted. */
int fx_connect_try(struct fx_qp *q, const struct fx_tenant *peer_t, uint32_t peer_qpn,
		   const struct fx_conn *c);
void fx_connect(struct fx_qp *q, const struct fx_tenant *peer_t, uint32_t peer_qpn,
		const struct fx_conn *c);
/* Both sides of an RC connection with the same parameters. */
void fx_connect_pair(struct fx_qp *a, struct fx_qp *b, const struct fx_conn *c);
/* UD: RESET -> RTS with Q_Key FX_QKEY, and an AH towards PEER. */
#define FX_QKEY 0x1234567u
void fx_connect_ud(struct fx_qp *q, const struct fx_qp *peer);
/* Moves Q to STATE with nothing else (ERR, RESET, SQD...). */
void fx_modify_state(struct fx_qp *q, enum ciov_qp_state state);

/* An SGE of T's main MR at buf offset OFF. */
struct ciov_sge fx_sge(const struct fx_tenant *t, size_t off, uint32_t len);

/* Waits until N completions arrived on CQ (asserts within TIMEOUT_MS,
 * yielding between polls); returns how many arrived (== N, or fails). */
void fx_wait(struct ciov_cq *cq, int n, struct ciov_wc *wc, int timeout_ms);
/* Polls for up to MS and returns how many completions arrived (<= N). */
int fx_poll_for(struct ciov_cq *cq, int n, struct ciov_wc *wc, int ms);
/* Asserts that no completion arrives on CQ within MS. */
void fx_no_cqe(struct ciov_cq *cq, int ms);
/* Asserts one completion's wr_id, status and opcode, printing names. */
void fx_check_wc(const struct ciov_wc *wc, uint64_t wr_id, enum ciov_wc_status status,
		 enum ciov_wc_opcode opcode);

/* Posts, asserting success. */
void fx_post_send(struct fx_qp *q, struct ciov_send_wr *wr);
void fx_post_recv(struct fx_qp *q, struct ciov_recv_wr *wr);

/* A deterministic pseudo-random pattern (xorshift64*) of N bytes. */
void fx_fill(void *p, size_t n, uint64_t seed);
uint64_t fx_rand(uint64_t *state);

/* Monotonic milliseconds. */
double fx_now_ms(void);

/* Two tenants A and B (endpoints "<tag>-<mode>-a/b") with LEN bytes each
 * and one RC QP each, not connected yet. */
struct fx_pair {
	struct fx_tenant a, b;
	struct fx_qp qa, qb;
};
void fx_pair_new(struct fx_pair *p, const char *tag, enum ciov_mode mode, size_t len,
		 const struct fx_qp_opts *o);
void fx_pair_free(struct fx_pair *p);

/* The raw tenant protocol, keeping the fds of the reply (FDS_OUT gets
 * exactly what arrived, up to MAXFDS; *NFDS the count). Returns the
 * reply's status, or 1 if the connection closed. */
int fx_raw_call(int sock, unsigned op, const void *req, size_t req_len, void *rep,
		size_t rep_len, const int *fds_in, int nfds_in, int *fds_out, int maxfds,
		int *nfds);

/* endpoint.show usage KEY of NAME, polled until it equals WANT (up to
 * 5 s: ciovd reclaims a dead tenant's objects when it sees the hangup). */
long long fx_usage(const char *name, const char *key, long long want);

#endif
