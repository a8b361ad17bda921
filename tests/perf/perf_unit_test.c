/* SPDX-License-Identifier: MIT */
/*
 * ciov-perf without an adapter: the command line, the out-of-band wire
 * format and exchange (two real processes over loopback TCP), statistics,
 * the JSON lines and the verify pattern. Exit 0 pass, 1 fail.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "perf.h"

static int failed;

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c)) {                                                    \
			fprintf(stderr, "    FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); \
			failed++;                                              \
		}                                                              \
	} while (0)

/* Parses a command line given as one string; returns perf_parse_args(). */
static int parse(struct perf_opts *o, const char *cmd)
{
	static char buf[1024];
	char *argv[64];
	int argc = 0;
	FILE *null = fopen("/dev/null", "w");
	int rc;

	snprintf(buf, sizeof(buf), "ciov-perf %s", cmd);
	for (char *t = strtok(buf, " "); t && argc < 63; t = strtok(NULL, " "))
		argv[argc++] = t;
	argv[argc] = NULL;
	rc = perf_parse_args(argc, argv, o, null, null);
	fclose(null);
	return rc;
}

static void defaults_are_perftests(void)
{
	struct perf_opts o;

	CHECK(parse(&o, "write bw") == 0);
	CHECK(o.p.test == PERF_TEST_WRITE && o.p.kind == PERF_KIND_BW && !o.server);
	CHECK(o.p.size == 65536 && o.p.iters == 5000 && o.p.tx_depth == 128);
	CHECK(o.p.num_qps == 1 && o.port == 18515 && o.p.inline_max == 0 && !o.event);
	CHECK(!strcmp(o.endpoint, "ep0"));
	CHECK(parse(&o, "send lat host1") == 0);
	CHECK(o.p.size == 2 && o.p.iters == 1000 && o.p.inline_max == 220);
	CHECK(o.server && !strcmp(o.server, "host1"));
	CHECK(parse(&o, "atomic bw") == 0 && o.p.size == 8);
	CHECK(parse(&o, "read lat") == 0 && o.p.inline_max == 0);
}

static void options_take_effect(void)
{
	struct perf_opts o;

	CHECK(parse(&o, "write bw --endpoint vm1 --port 20000 --size 64K --qps 4 --tx-depth 16 "
			"--inline 64 --event --verify --json --sl 3 --mtu 4096 10.0.0.1") == 0);
	CHECK(!strcmp(o.endpoint, "vm1") && o.port == 20000 && o.p.size == 65536);
	CHECK(o.p.num_qps == 4 && o.p.tx_depth == 16 && o.p.inline_max == 64 && o.event);
	CHECK(o.p.verify && o.json && o.p.sl == 3 && o.p.mtu == CIOV_MTU_4096);
	CHECK(!strcmp(o.server, "10.0.0.1"));
	CHECK(parse(&o, "read bw --duration 5") == 0 && o.p.duration == 5 && o.p.iters == 0);
	CHECK(parse(&o, "--size 1M send bw --iters 7") == 0 && o.p.size == 1 << 20 &&
	      o.p.iters == 7);
}

static void bad_command_lines_exit_2(void)
{
	static const char *const bad[] = {
		"",
		"write",
		"frob bw",
		"write fast",
		"write bw a b",
		"write bw --bogus",
		"write bw --size",
		"write bw --size 0",
		"write bw --size 12Q",
		"write bw --size 2G",
		"write bw --port 0",
		"write bw --port 70000",
		"write bw --qps 0",
		"write bw --qps 65",
		"write bw --sl 16",
		"write bw --mtu 1500",
		"write bw --tx-depth 0",
		"write bw --iters 0",
		"write bw --iters 10 --duration 2",
		"write bw --all --size 4K",
		"write lat --qps 2",
		"write lat --tx-depth 4",
		"write lat --event",
		"atomic bw --size 16",
		"read bw --inline 64",
	};
	struct perf_opts o;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(&o, bad[i]);

		if (rc != PERF_EXIT_USAGE) {
			fprintf(stderr, "    FAIL: '%s' gave %d, not 2\n", bad[i], rc);
			failed++;
		}
	}
	unsetenv("CIOV_ENDPOINT");
	CHECK(parse(&o, "write bw") == PERF_EXIT_USAGE);
	CHECK(parse(&o, "write bw --endpoint e") == 0);
	setenv("CIOV_ENDPOINT", "ep0", 1);
	CHECK(parse(&o, "--help") == -1);
	CHECK(parse(&o, "--version") == -1);
}

static void sizes_of_all(void)
{
	struct perf_opts o;
	uint64_t s[32];
	int n;

	CHECK(perf_parse_size("4K", &s[0]) == 0 && s[0] == 4096);
	CHECK(perf_parse_size("8MiB", &s[0]) == 0 && s[0] == 8 << 20);
	CHECK(perf_parse_size("-1", &s[0]) == -EINVAL);
	CHECK(parse(&o, "write bw --all") == 0);
	n = perf_sizes(&o.p, s, 32);
	CHECK(n == 23 && s[0] == 2 && s[22] == 8 << 20);
	for (int i = 1; i < n; i++)
		CHECK(s[i] == 2 * s[i - 1]);
	CHECK(perf_max_size(&o.p) == 8 << 20);
	CHECK(parse(&o, "atomic lat --all") == 0);
	n = perf_sizes(&o.p, s, 32);
	CHECK(n == 1 && s[0] == 8);
}

static void wire_round_trips_and_rejects(void)
{
	struct perf_params p = {.test = PERF_TEST_SEND, .kind = PERF_KIND_BW, .size = 4096,
				.iters = 77, .num_qps = 3, .tx_depth = 64, .inline_max = 100,
				.sl = 5, .mtu = CIOV_MTU_1024, .verify = true},
			   q;
	struct perf_conn c = {.psn = 0xabcdef, .rkey = 0x1234, .addr = 0x7f0000001000,
			      .buf_size = 1 << 20, .num_qps = 3, .qpn = {1, 2, 0xffffff}},
			 d;
	uint8_t w[512];
	char why[128];

	CHECK(perf_params_wire_size() == 56);
	perf_params_encode(&p, w);
	CHECK(w[0] == 'C' && w[1] == 'P' && w[2] == 'R' && w[3] == 'F'); /* little-endian magic */
	CHECK(perf_params_decode(w, &q, why, sizeof(why)) == 0);
	CHECK(q.test == p.test && q.kind == p.kind && q.size == p.size && q.iters == p.iters &&
	      q.duration == p.duration && q.num_qps == p.num_qps && q.tx_depth == p.tx_depth &&
	      q.inline_max == p.inline_max && q.sl == p.sl && q.mtu == p.mtu && q.all == p.all &&
	      q.verify == p.verify);
	w[0] ^= 1;
	CHECK(perf_params_decode(w, &q, why, sizeof(why)) == -EPROTO);
	perf_params_encode(&p, w);
	w[4] = 9; /* version */
	CHECK(perf_params_decode(w, &q, why, sizeof(why)) == -EPROTO && strstr(why, "version"));
	p.kind = PERF_KIND_LAT; /* lat with 3 QPs */
	perf_params_encode(&p, w);
	CHECK(perf_params_decode(w, &q, why, sizeof(why)) == -EINVAL);
	p.kind = PERF_KIND_BW;
	p.iters = 0; /* neither iterations nor a duration */
	perf_params_encode(&p, w);
	CHECK(perf_params_decode(w, &q, why, sizeof(why)) == -EINVAL);

	CHECK(perf_conn_wire_size() == 56 + 4 * PERF_MAX_QPS);
	perf_conn_encode(&c, w);
	CHECK(perf_conn_decode(w, &d, why, sizeof(why)) == 0);
	CHECK(!memcmp(c.gid, d.gid, 16) && d.psn == c.psn && d.rkey == c.rkey &&
	      d.addr == c.addr && d.buf_size == c.buf_size && d.num_qps == c.num_qps &&
	      !memcmp(c.qpn, d.qpn, sizeof(c.qpn)));
	c.qpn[1] = 0x1000000; /* QPNs have 24 bits */
	perf_conn_encode(&c, w);
	CHECK(perf_conn_decode(w, &d, why, sizeof(why)) == -EINVAL);
	c.qpn[1] = 2;
	c.num_qps = PERF_MAX_QPS + 1;
	perf_conn_encode(&c, w);
	CHECK(perf_conn_decode(w, &d, why, sizeof(why)) == -EINVAL);
	c.num_qps = 3;
	c.addr = UINT64_MAX - 10; /* wraps */
	perf_conn_encode(&c, w);
	CHECK(perf_conn_decode(w, &d, why, sizeof(why)) == -EINVAL);
}

/* A server process and this process as the client over loopback TCP.
 * Returns the client's result; *srv_rc gets the server's exit status. */
static int exchange(const char *srv_cmd, const char *cli_cmd, struct perf_params *srv_out,
		    int *srv_rc)
{
	struct perf_opts so, co;
	int lfd, port, fd, pfd[2], st, rc;
	pid_t pid;

	if (parse(&so, srv_cmd) || parse(&co, cli_cmd) || pipe(pfd))
		return -100;
	lfd = perf_oob_listen(0);
	port = perf_oob_port(lfd);
	if (lfd < 0 || port <= 0)
		return -100;
	pid = fork();
	if (pid == 0) {
		FILE *null = fopen("/dev/null", "w");
		struct perf_conn mine = {.psn = 7, .rkey = 9, .addr = 4096, .buf_size = 8192,
					 .num_qps = 1, .qpn = {0x51}},
				 peer;

		fd = perf_oob_accept(lfd);
		rc = fd < 0 || perf_oob_params_server(fd, &so.p, null);
		if (!rc)
			rc = perf_oob_conn(fd, false, &mine, &peer, null) || peer.qpn[0] != 0x61 ||
			     perf_oob_sync(fd, PERF_MSG_READY, 1, NULL);
		if (write(pfd[1], &so.p, sizeof(so.p)) != sizeof(so.p))
			rc = 1;
		_exit(rc);
	}
	close(lfd);
	fd = perf_oob_connect("localhost", (uint16_t)port, 5000);
	if (fd < 0)
		return -100;
	{
		FILE *null = fopen("/dev/null", "w");
		struct perf_conn mine = {.psn = 8, .rkey = 10, .addr = 4096, .buf_size = 8192,
					 .num_qps = 1, .qpn = {0x61}},
				 peer;

		rc = perf_oob_params_client(fd, &co.p, null);
		if (!rc)
			rc = perf_oob_conn(fd, true, &mine, &peer, null) || peer.qpn[0] != 0x51 ||
			     peer.psn != 7 || perf_oob_sync(fd, PERF_MSG_READY, 1, NULL);
		fclose(null);
	}
	close(fd);
	if (read(pfd[0], srv_out, sizeof(*srv_out)) != sizeof(*srv_out))
		rc = -100;
	close(pfd[0]);
	close(pfd[1]);
	waitpid(pid, &st, 0);
	*srv_rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return rc;
}

static void server_adopts_client_parameters(void)
{
	struct perf_params sp;
	int srv;

	CHECK(exchange("write bw", "write bw --size 4K --iters 33 --qps 1 --verify x", &sp, &srv) == 0);
	CHECK(srv == 0 && sp.size == 4096 && sp.iters == 33 && sp.verify);
}

static void test_mismatch_fails_both_sides(void)
{
	struct perf_params sp;
	int srv;

	CHECK(exchange("read bw", "write bw x", &sp, &srv) != 0);
	CHECK(srv != 0);
	CHECK(exchange("write lat", "write bw x", &sp, &srv) != 0);
	CHECK(srv != 0);
}

static void client_without_server_is_refused(void)
{
	int lfd = perf_oob_listen(0), port = perf_oob_port(lfd);

	close(lfd); /* nobody listens there now */
	CHECK(perf_oob_connect("127.0.0.1", (uint16_t)port, 200) == -ECONNREFUSED);
	CHECK(perf_oob_connect("no-such-host.invalid", 1, 0) < 0);
}

static void latency_statistics(void)
{
	double s[1000];
	struct perf_lat_result r;

	for (int i = 0; i < 1000; i++)
		s[i] = (double)(1000 - i) * 1000; /* 1..1000 us, reversed */
	perf_lat_stats(s, 1000, 2, &r);
	CHECK(r.iters == 1000 && r.t_min_us == 1 && r.t_max_us == 1000);
	CHECK(r.t_typical_us == 501 && r.t_avg_us == 500.5);
	CHECK(r.t_p99_us == 990 && r.t_p999_us == 999);
	CHECK(r.t_stdev_us > 288 && r.t_stdev_us < 289);
}

static void bw_peak_is_best_window(void)
{
	/* 100 msgs/s, then a burst of 100 messages in 0.1 s */
	double t[] = {0, 1, 2, 2.1, 3};
	uint64_t m[] = {0, 100, 200, 300, 400};

	CHECK(perf_bw_peak(t, m, 5, 100, 1) > 999 && perf_bw_peak(t, m, 5, 100, 1) < 1001);
	CHECK(perf_bw_peak(t, m, 5, 1000, 1) == 0); /* no window long enough */
}

static struct json_object *json_line(void (*print)(FILE *, const struct perf_opts *,
						   const void *),
				     const struct perf_opts *o, const void *r)
{
	char buf[2048] = "";
	FILE *f = tmpfile();

	print(f, o, r);
	rewind(f);
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return json_tokener_parse(buf);
}

static void print_bw(FILE *f, const struct perf_opts *o, const void *r)
{
	perf_print_bw(f, o, r);
}

static void print_lat(FILE *f, const struct perf_opts *o, const void *r)
{
	perf_print_lat(f, o, r);
}

static bool has(struct json_object *j, const char *key)
{
	return json_object_object_get_ex(j, key, NULL);
}

static void json_lines_have_the_fields(void)
{
	struct perf_opts o;
	struct perf_bw_result b = {.bytes = 65536, .iters = 5000, .msgs = 5000, .num_qps = 1,
				   .seconds = 0.5, .bw_bytes_per_sec = 6.5536e8,
				   .bw_peak_bytes_per_sec = 7e8, .msg_per_sec = 1e4};
	struct perf_lat_result l = {.bytes = 2, .iters = 1000, .t_min_us = 1, .t_max_us = 9,
				    .t_typical_us = 2, .t_avg_us = 2.5, .t_p99_us = 8,
				    .t_p999_us = 9};
	struct json_object *j, *v;

	CHECK(parse(&o, "write bw --json x") == 0);
	j = json_line(print_bw, &o, &b);
	CHECK(j != NULL);
	if (j) {
		static const char *const keys[] = {"test", "bytes", "iterations",
						   "bw_bytes_per_sec", "msg_per_sec"};
		for (size_t i = 0; i < 5; i++)
			CHECK(has(j, keys[i]));
		CHECK(json_object_object_get_ex(j, "test", &v) &&
		      !strcmp(json_object_get_string(v), "write"));
		CHECK(json_object_object_get_ex(j, "bw_bytes_per_sec", &v) &&
		      json_object_get_int64(v) == 655360000);
		json_object_put(j);
	}
	CHECK(parse(&o, "send lat --json x") == 0);
	j = json_line(print_lat, &o, &l);
	CHECK(j != NULL);
	if (j) {
		static const char *const keys[] = {"test", "bytes", "iterations", "t_min_us",
						   "t_typical_us", "t_avg_us", "t_p99_us",
						   "t_max_us", "t_p999_us"};
		for (size_t i = 0; i < 9; i++)
			CHECK(has(j, keys[i]));
		CHECK(json_object_object_get_ex(j, "t_p99_us", &v) &&
		      json_object_get_double(v) == 8);
		json_object_put(j);
	}
}

static void pattern_detects_a_changed_byte(void)
{
	uint8_t b[1001];

	perf_pattern_fill(b, sizeof(b), 1, 2);
	CHECK(perf_pattern_check(b, sizeof(b), 1, 2) == -1);
	CHECK(perf_pattern_check(b, sizeof(b), 1, 3) >= 0);
	CHECK(perf_pattern_check(b, sizeof(b), 2, 2) >= 0);
	b[777] ^= 0x10;
	CHECK(perf_pattern_check(b, sizeof(b), 1, 2) == 777);
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} tests[] = {
#define T(n) {#n, n}
		T(defaults_are_perftests),
		T(options_take_effect),
		T(bad_command_lines_exit_2),
		T(sizes_of_all),
		T(wire_round_trips_and_rejects),
		T(server_adopts_client_parameters),
		T(test_mismatch_fails_both_sides),
		T(client_without_server_is_refused),
		T(latency_statistics),
		T(bw_peak_is_best_window),
		T(json_lines_have_the_fields),
		T(pattern_detects_a_changed_byte),
#undef T
	};
	int total = 0;

	setenv("CIOV_ENDPOINT", "ep0", 1);
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		int before = failed;

		tests[i].fn();
		printf("%s - %s\n", failed == before ? "ok" : "not ok", tests[i].name);
		total += failed != before;
	}
	return total ? 1 : 0;
}
