/* SPDX-License-Identifier: MIT */
/* ciov-perf: statistics, the perftest-like tables and the JSON lines. */
#include <endian.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "perf.h"

#define MB (1024.0 * 1024.0) /* perftest's MB/sec are MiB/s */
#define RULE "---------------------------------------------------------------------------------------\n"

double perf_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted samples: the smallest sample with at
 * least q of them at or below it. */
static double rank(const double *s, size_t n, double q)
{
	size_t i = (size_t)ceil(q * (double)n);

	if (i < 1)
		i = 1;
	if (i > n)
		i = n;
	return s[i - 1];
}

void perf_lat_stats(double *s, size_t n, uint64_t bytes, struct perf_lat_result *r)
{
	double sum = 0, var = 0, avg;

	*r = (struct perf_lat_result){.bytes = bytes, .iters = n};
	if (!n)
		return;
	qsort(s, n, sizeof(*s), cmp_double);
	for (size_t i = 0; i < n; i++)
		sum += s[i];
	avg = sum / (double)n;
	for (size_t i = 0; i < n; i++)
		var += (s[i] - avg) * (s[i] - avg);
	r->t_min_us = s[0] / 1e3;
	r->t_max_us = s[n - 1] / 1e3;
	r->t_typical_us = s[n / 2] / 1e3; /* the median, as perftest's typical */
	r->t_avg_us = avg / 1e3;
	r->t_stdev_us = sqrt(var / (double)n) / 1e3;
	r->t_p99_us = rank(s, n, 0.99) / 1e3;
	r->t_p999_us = rank(s, n, 0.999) / 1e3;
}

double perf_bw_peak(const double *t, const uint64_t *msgs, size_t n, uint64_t min_msgs,
		    uint64_t bytes)
{
	double best = 0;
	size_t j = 0;

	if (min_msgs < 1)
		min_msgs = 1;
	/* two pointers: for each start i, the first end j spanning min_msgs */
	for (size_t i = 0; i < n; i++) {
		if (j <= i)
			j = i + 1;
		while (j < n && msgs[j] - msgs[i] < min_msgs)
			j++;
		if (j >= n)
			break;
		if (t[j] > t[i]) {
			double bw = (double)(msgs[j] - msgs[i]) * (double)bytes / (t[j] - t[i]);

			if (bw > best)
				best = bw;
		}
	}
	return best;
}

void perf_print_banner(FILE *f, const struct perf_opts *o)
{
	const struct perf_params *p = &o->p;

	if (o->json)
		return;
	fputs(RULE, f);
	fprintf(f, "                    RDMA_%s %s Test (ciov)\n",
		p->test == PERF_TEST_WRITE ? "Write" :
		p->test == PERF_TEST_READ  ? "Read" :
		p->test == PERF_TEST_SEND  ? "Send" : "Atomic FETCH_AND_ADD",
		p->kind == PERF_KIND_BW ? "BW" : "Latency");
	fprintf(f, " Endpoint        : %s\n", o->endpoint);
	fprintf(f, " Number of qps   : %u\t\tTransport type : IB (ciov)\n", p->num_qps);
	fprintf(f, " Connection type : RC\t\tUsing SRQ      : OFF\n");
	if (p->kind == PERF_KIND_BW)
		fprintf(f, " TX depth        : %u\n", p->tx_depth);
	fprintf(f, " Mtu             : %u[B]\n", 128u << p->mtu);
	fprintf(f, " Max inline data : %u[B]\n", p->inline_max);
	fprintf(f, " Service level   : %u\n", p->sl);
	fprintf(f, " Completions     : %s\n",
		o->event ? "EVENT (completion channel)" : "POLL (sched_yield when empty)");
	if (p->duration)
		fprintf(f, " Duration        : %u[sec] per size\n", p->duration);
	if (p->verify)
		fprintf(f, " Verify          : ON\n");
}

void perf_print_bw_header(FILE *f, const struct perf_opts *o)
{
	if (o->json)
		return;
	fputs(RULE, f);
	fprintf(f, " %-10s %-14s %-18s %-20s %s\n", "#bytes", "#iterations", "BW peak[MB/sec]",
		"BW average[MB/sec]", "MsgRate[Mpps]");
}

void perf_print_bw(FILE *f, const struct perf_opts *o, const struct perf_bw_result *r)
{
	if (o->json) {
		fprintf(f,
			"{\"test\":\"%s\",\"kind\":\"bw\",\"bytes\":%llu,\"iterations\":%llu,"
			"\"qps\":%u,\"tx_depth\":%u,\"inline\":%u,\"event\":%s,\"sl\":%u,"
			"\"seconds\":%.6f,\"bw_bytes_per_sec\":%.0f,\"bw_peak_bytes_per_sec\":%.0f,"
			"\"msg_per_sec\":%.0f}\n",
			perf_test_name(o->p.test), (unsigned long long)r->bytes,
			(unsigned long long)r->iters, r->num_qps, o->p.tx_depth, o->p.inline_max,
			o->event ? "true" : "false", o->p.sl, r->seconds, r->bw_bytes_per_sec,
			r->bw_peak_bytes_per_sec, r->msg_per_sec);
	} else {
		fprintf(f, " %-10llu %-14llu %-18.2f %-20.2f %.6f\n", (unsigned long long)r->bytes,
			(unsigned long long)r->iters, r->bw_peak_bytes_per_sec / MB,
			r->bw_bytes_per_sec / MB, r->msg_per_sec / 1e6);
	}
	fflush(f);
}

void perf_print_lat_header(FILE *f, const struct perf_opts *o)
{
	if (o->json)
		return;
	fputs(RULE, f);
	fprintf(f, " %-8s %-12s %-12s %-12s %-16s %-12s %-14s %-22s %s\n", "#bytes",
		"#iterations", "t_min[usec]", "t_max[usec]", "t_typical[usec]", "t_avg[usec]",
		"t_stdev[usec]", "99% percentile[usec]", "99.9% percentile[usec]");
}

void perf_print_lat(FILE *f, const struct perf_opts *o, const struct perf_lat_result *r)
{
	/* what the numbers are, as perftest reports them */
	const char *measures = o->p.test == PERF_TEST_WRITE || o->p.test == PERF_TEST_SEND
				       ? "rtt_half"
				       : "rtt";

	if (o->json) {
		fprintf(f,
			"{\"test\":\"%s\",\"kind\":\"lat\",\"bytes\":%llu,\"iterations\":%llu,"
			"\"inline\":%u,\"event\":%s,\"sl\":%u,\"measures\":\"%s\","
			"\"t_min_us\":%.3f,\"t_max_us\":%.3f,\"t_typical_us\":%.3f,"
			"\"t_avg_us\":%.3f,\"t_stdev_us\":%.3f,\"t_p99_us\":%.3f,\"t_p999_us\":%.3f}\n",
			perf_test_name(o->p.test), (unsigned long long)r->bytes,
			(unsigned long long)r->iters, o->p.inline_max, o->event ? "true" : "false",
			o->p.sl, measures, r->t_min_us, r->t_max_us, r->t_typical_us, r->t_avg_us,
			r->t_stdev_us, r->t_p99_us, r->t_p999_us);
	} else {
		fprintf(f, " %-8llu %-12llu %-12.2f %-12.2f %-16.2f %-12.2f %-14.2f %-22.2f %.2f\n",
			(unsigned long long)r->bytes, (unsigned long long)r->iters, r->t_min_us,
			r->t_max_us, r->t_typical_us, r->t_avg_us, r->t_stdev_us, r->t_p99_us,
			r->t_p999_us);
	}
	fflush(f);
}

void perf_print_footer(FILE *f, const struct perf_opts *o)
{
	if (!o->json)
		fputs(RULE, f);
}

/* The pattern: a 64-bit mix of (seed, iteration, offset / 8), so that a
 * byte from another iteration, another QP or another offset differs with
 * overwhelming probability. */
static inline uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static inline uint8_t pattern_byte(uint64_t base, size_t i)
{
	return (uint8_t)(mix(base + i / 8) >> (8 * (i % 8)));
}

static uint64_t pattern_base(uint64_t seed, uint64_t iter)
{
	return mix(seed * 0x9e3779b97f4a7c15ull ^ iter) << 20;
}

void perf_pattern_fill(uint8_t *dst, size_t len, uint64_t seed, uint64_t iter)
{
	uint64_t base = pattern_base(seed, iter);
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w = htole64(mix(base + i / 8)); /* byte k = mix >> 8k */

		memcpy(dst + i, &w, 8);
	}
	for (; i < len; i++)
		dst[i] = pattern_byte(base, i);
}

long perf_pattern_check(const volatile uint8_t *src, size_t len, uint64_t seed, uint64_t iter)
{
	uint64_t base = pattern_base(seed, iter);

	for (size_t i = 0; i < len; i++)
		if (src[i] != pattern_byte(base, i))
			return (long)i;
	return -1;
}
