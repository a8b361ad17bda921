/* SPDX-License-Identifier: MIT */
/* ciov-perf: the command line. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "perf.h"

static const char *const test_names[PERF_TEST_MAX] = {
#define X(N, n) [PERF_TEST_##N] = #n,
	PERF_TESTS(X)
#undef X
};

static const char *const kind_names[PERF_KIND_MAX] = {
#define X(N, n) [PERF_KIND_##N] = #n,
	PERF_KINDS(X)
#undef X
};

const char *perf_test_name(enum perf_test t)
{
	return (unsigned)t < PERF_TEST_MAX ? test_names[t] : "unknown";
}

const char *perf_kind_name(enum perf_kind k)
{
	return (unsigned)k < PERF_KIND_MAX ? kind_names[k] : "unknown";
}

void perf_usage(FILE *f)
{
	fputs("Usage: ciov-perf TEST KIND [OPTIONS] [SERVER]\n"
	      "  TEST  write | read | send | atomic\n"
	      "  KIND  bw | lat\n"
	      "  Without SERVER this side is the server and waits for a client;\n"
	      "  with SERVER (a host name or address) it is the client, which chooses\n"
	      "  the test parameters and prints the results.\n"
	      "Options:\n"
	      "  --endpoint NAME    endpoint to open (default $CIOV_ENDPOINT)\n"
	      "  --native           use the PD, memory, CQ and QP the endpoint's manager\n"
	      "                     provisioned (handles in $CIOV_HV_*, see ciov-hv)\n"
	      "  --runtime-dir DIR  where ciovd's sockets are (default $CIOV_RUNTIME_DIR, /run/ciov)\n"
	      "  --port N           out-of-band TCP port (default 18515)\n"
	      "  --size N           message size in bytes, K/M suffixes (default 65536 bw, 2 lat, 8 atomic)\n"
	      "  --all              sizes 2 B .. 8 MiB, powers of two (atomic: 8)\n"
	      "  --iters N          iterations per QP (default 5000 bw, 1000 lat)\n"
	      "  --duration SEC     run for SEC seconds per size instead of --iters\n"
	      "  --qps N            bw: N QPs used round robin (default 1, max 64)\n"
	      "  --tx-depth N       bw: outstanding WRs per QP (default 128)\n"
	      "  --inline N         sends/writes of at most N bytes are inline\n"
	      "                     (default 0 bw, 220 write/send lat)\n"
	      "  --sl N             service level 0..15 (default 0)\n"
	      "  --mtu N            path MTU 256|512|1024|2048|4096 (default 1024)\n"
	      "  --event            sleep on a completion channel instead of polling\n"
	      "  --verify           check every byte moved against a pattern\n"
	      "  --json             one JSON object per result line\n"
	      "  -h, --help         this text;  --version  the version\n",
	      f);
}

static int usage_err(FILE *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage_err(FILE *err, const char *fmt, ...)
{
	va_list ap;

	fputs("ciov-perf: ", err);
	va_start(ap, fmt);
	vfprintf(err, fmt, ap);
	va_end(ap);
	fputc('\n', err);
	perf_usage(err);
	return PERF_EXIT_USAGE;
}

int perf_parse_size(const char *s, uint64_t *ret)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (*end) {
		switch (toupper((unsigned char)*end)) {
		case 'K':
			shift = 10;
			break;
		case 'M':
			shift = 20;
			break;
		case 'G':
			shift = 30;
			break;
		default:
			return -EINVAL;
		}
		end++;
		/* accept 64K, 64KB, 64KiB */
		if (*end == 'i')
			end++;
		if (*end == 'B' || *end == 'b')
			end++;
		if (*end)
			return -EINVAL;
	}
	if (v > (UINT64_MAX >> shift))
		return -EINVAL;
	*ret = (uint64_t)v << shift;
	return 0;
}

/* A decimal integer in [min, max]. 0 or -EINVAL. */
static int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int parse_mtu(const char *s, uint8_t *ret)
{
	static const unsigned mtus[] = {[CIOV_MTU_256] = 256, [CIOV_MTU_512] = 512,
					[CIOV_MTU_1024] = 1024, [CIOV_MTU_2048] = 2048,
					[CIOV_MTU_4096] = 4096};
	uint64_t v;

	if (parse_uint(s, 256, 4096, &v))
		return -EINVAL;
	for (unsigned i = CIOV_MTU_256; i <= CIOV_MTU_4096; i++)
		if (mtus[i] == v) {
			*ret = (uint8_t)i;
			return 0;
		}
	return -EINVAL;
}

static int lookup(const char *s, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

enum {
	OPT_ENDPOINT = 256,
	OPT_PORT,
	OPT_SIZE,
	OPT_ALL,
	OPT_ITERS,
	OPT_DURATION,
	OPT_QPS,
	OPT_INLINE,
	OPT_EVENT,
	OPT_VERIFY,
	OPT_JSON,
	OPT_SL,
	OPT_TX_DEPTH,
	OPT_RUNTIME_DIR,
	OPT_MTU,
	OPT_VERSION,
	OPT_NATIVE,
};

static const struct option long_opts[] = {
	{"endpoint", required_argument, NULL, OPT_ENDPOINT},
	{"port", required_argument, NULL, OPT_PORT},
	{"size", required_argument, NULL, OPT_SIZE},
	{"all", no_argument, NULL, OPT_ALL},
	{"iters", required_argument, NULL, OPT_ITERS},
	{"duration", required_argument, NULL, OPT_DURATION},
	{"qps", required_argument, NULL, OPT_QPS},
	{"inline", required_argument, NULL, OPT_INLINE},
	{"event", no_argument, NULL, OPT_EVENT},
	{"verify", no_argument, NULL, OPT_VERIFY},
	{"json", no_argument, NULL, OPT_JSON},
	{"sl", required_argument, NULL, OPT_SL},
	{"tx-depth", required_argument, NULL, OPT_TX_DEPTH},
	{"runtime-dir", required_argument, NULL, OPT_RUNTIME_DIR},
	{"mtu", required_argument, NULL, OPT_MTU},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, OPT_VERSION},
	{"native", no_argument, NULL, OPT_NATIVE},
	{0},
};

int perf_parse_args(int argc, char **argv, struct perf_opts *o, FILE *out, FILE *err)
{
	bool size_given = false, iters_given = false, qps_given = false, depth_given = false;
	uint64_t v;
	int c, t, k;

	*o = (struct perf_opts){
		.p = {.num_qps = 1, .tx_depth = PERF_DEFAULT_TX_DEPTH, .mtu = CIOV_MTU_1024},
		.port = PERF_DEFAULT_PORT,
	};
	optind = 0; /* reset getopt (and let tests parse more than once) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
		const char *a = optarg;

		switch (c) {
		case OPT_ENDPOINT:
			if (!*a || strlen(a) >= CIOV_NAME_MAX)
				return usage_err(err, "bad --endpoint '%s'", a);
			o->endpoint = a;
			break;
		case OPT_PORT:
			if (parse_uint(a, 1, 65535, &v))
				return usage_err(err, "bad --port '%s' (1..65535)", a);
			o->port = (uint16_t)v;
			break;
		case OPT_SIZE:
			if (perf_parse_size(a, &v) || v < 1 || v > PERF_MAX_SIZE)
				return usage_err(err, "bad --size '%s' (1..1G, K/M suffixes)", a);
			o->p.size = v;
			size_given = true;
			break;
		case OPT_ALL:
			o->p.all = true;
			break;
		case OPT_ITERS:
			if (parse_uint(a, 1, PERF_MAX_ITERS, &v))
				return usage_err(err, "bad --iters '%s'", a);
			o->p.iters = v;
			iters_given = true;
			break;
		case OPT_DURATION:
			if (parse_uint(a, 1, PERF_MAX_DURATION, &v))
				return usage_err(err, "bad --duration '%s' (seconds, 1..%d)", a,
						 PERF_MAX_DURATION);
			o->p.duration = (uint32_t)v;
			break;
		case OPT_QPS:
			if (parse_uint(a, 1, PERF_MAX_QPS, &v))
				return usage_err(err, "bad --qps '%s' (1..%d)", a, PERF_MAX_QPS);
			o->p.num_qps = (uint32_t)v;
			qps_given = true;
			break;
		case OPT_INLINE:
			if (parse_uint(a, 0, 65536, &v))
				return usage_err(err, "bad --inline '%s'", a);
			o->p.inline_max = (uint32_t)v;
			o->inline_given = true;
			break;
		case OPT_EVENT:
			o->event = true;
			break;
		case OPT_NATIVE:
			o->native = true;
			break;
		case OPT_VERIFY:
			o->p.verify = true;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_SL:
			if (parse_uint(a, 0, 15, &v))
				return usage_err(err, "bad --sl '%s' (0..15)", a);
			o->p.sl = (uint8_t)v;
			break;
		case OPT_TX_DEPTH:
			if (parse_uint(a, 1, PERF_MAX_TX_DEPTH, &v))
				return usage_err(err, "bad --tx-depth '%s' (1..%d)", a,
						 PERF_MAX_TX_DEPTH);
			o->p.tx_depth = (uint32_t)v;
			depth_given = true;
			break;
		case OPT_RUNTIME_DIR:
			o->runtime_dir = a;
			break;
		case OPT_MTU:
			if (parse_mtu(a, &o->p.mtu))
				return usage_err(err, "bad --mtu '%s' (256|512|1024|2048|4096)", a);
			break;
		case 'h':
			perf_usage(out);
			return -1;
		case OPT_VERSION:
			fprintf(out, "ciov-perf %s\n", CIOV_VERSION);
			return -1;
		case ':':
			return usage_err(err, "option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_err(err, "unknown option '%s'", argv[optind - 1]);
		}
	}

	if (argc - optind < 2)
		return usage_err(err, "give TEST and KIND");
	if (argc - optind > 3)
		return usage_err(err, "unexpected argument '%s'", argv[optind + 3]);
	t = lookup(argv[optind], test_names, PERF_TEST_MAX);
	if (t < 0)
		return usage_err(err, "unknown TEST '%s' (write|read|send|atomic)", argv[optind]);
	k = lookup(argv[optind + 1], kind_names, PERF_KIND_MAX);
	if (k < 0)
		return usage_err(err, "unknown KIND '%s' (bw|lat)", argv[optind + 1]);
	o->p.test = (enum perf_test)t;
	o->p.kind = (enum perf_kind)k;
	if (argc - optind == 3) {
		o->server = argv[optind + 2];
		if (!*o->server)
			return usage_err(err, "empty SERVER");
	}

	if (!o->endpoint) {
		o->endpoint = getenv("CIOV_ENDPOINT");
		if (!o->endpoint || !*o->endpoint)
			return usage_err(err, "no endpoint: give --endpoint NAME or set CIOV_ENDPOINT");
		if (strlen(o->endpoint) >= CIOV_NAME_MAX)
			return usage_err(err, "CIOV_ENDPOINT is too long");
	}

	/* Per-test defaults and combinations perftest also refuses. */
	if (o->p.test == PERF_TEST_ATOMIC) {
		if (size_given && o->p.size != PERF_ATOMIC_SIZE)
			return usage_err(err, "atomic operations move 8 bytes (--size 8)");
		o->p.size = PERF_ATOMIC_SIZE;
	} else if (!size_given) {
		o->p.size = o->p.kind == PERF_KIND_BW ? PERF_DEFAULT_SIZE : PERF_DEFAULT_LAT_SIZE;
	}
	if (o->p.all && size_given && o->p.test != PERF_TEST_ATOMIC)
		return usage_err(err, "--all and --size exclude each other");
	if (o->p.duration && iters_given)
		return usage_err(err, "--duration and --iters exclude each other");
	if (!o->p.duration && !iters_given)
		o->p.iters = o->p.kind == PERF_KIND_BW ? PERF_DEFAULT_ITERS_BW
						       : PERF_DEFAULT_ITERS_LAT;
	if (o->p.duration)
		o->p.iters = 0;
	if (o->p.kind == PERF_KIND_LAT) {
		if (qps_given && o->p.num_qps != 1)
			return usage_err(err, "--qps is for bw tests (lat uses one QP)");
		if (depth_given)
			return usage_err(err, "--tx-depth is for bw tests (lat keeps one outstanding)");
	}
	if (o->event && o->p.test == PERF_TEST_WRITE && o->p.kind == PERF_KIND_LAT)
		return usage_err(err, "--event: write lat polls memory, not a CQ");
	if (o->inline_given && (o->p.test == PERF_TEST_READ || o->p.test == PERF_TEST_ATOMIC) &&
	    o->p.inline_max)
		return usage_err(err, "--inline: %s carries no data in the request",
				 perf_test_name(o->p.test));
	if (!o->inline_given && o->p.kind == PERF_KIND_LAT &&
	    (o->p.test == PERF_TEST_WRITE || o->p.test == PERF_TEST_SEND))
		o->p.inline_max = PERF_DEFAULT_INLINE_LAT; /* clamped to the endpoint's */
	return 0;
}

int perf_sizes(const struct perf_params *p, uint64_t *sizes, int max)
{
	int n = 0;

	if (!p->all || p->test == PERF_TEST_ATOMIC) {
		if (max > 0)
			sizes[n++] = p->size;
		return n;
	}
	for (int s = PERF_ALL_MIN_SHIFT; s <= PERF_ALL_MAX_SHIFT && n < max; s++)
		sizes[n++] = 1ull << s;
	return n;
}

uint64_t perf_max_size(const struct perf_params *p)
{
	if (p->all && p->test != PERF_TEST_ATOMIC)
		return 1ull << PERF_ALL_MAX_SHIFT;
	return p->size;
}
