/* SPDX-License-Identifier: MIT */
/*
 * Two processes pass a counter through two cache lines of a MAP_SHARED
 * page, each spinning hard (no yield): the floor of any shared-memory
 * handoff between a tenant and the engine. Each round trip is timed; the
 * result is the half round trip, p50/p99 in ns (the clock's own cost, also
 * reported, is included). Pinned to two CPUs by default (--no-pin to let
 * the scheduler place them). --iters N: round trips (default 200000).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common.h"

#define DEFAULT_ITERS 200000
#define WARMUP 10000

struct lines {
	_Alignas(BL_LINE) _Atomic uint64_t ping; /* written by A */
	_Alignas(BL_LINE) _Atomic uint64_t pong; /* written by B */
};

int main(int argc, char **argv)
{
	struct bl_opts o;
	struct lines *l;
	uint64_t n, total;
	double *s, clk;
	pid_t pid;

	bl_parse(argc, argv, &o, true, "two-process cache-line ping-pong, hard spinning\n");
	n = o.iters ? o.iters : DEFAULT_ITERS;
	total = n + WARMUP;
	s = malloc(n * sizeof(*s));
	if (!s)
		return 1;
	clk = bl_clock_overhead_ns();
	l = bl_shared(sizeof(*l));
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) { /* B: answer every ping */
		if (o.pin)
			bl_pin(1);
		for (uint64_t i = 1; i <= total; i++) {
			while (atomic_load_explicit(&l->ping, memory_order_acquire) != i)
				;
			atomic_store_explicit(&l->pong, i, memory_order_release);
		}
		_exit(0);
	}
	if (o.pin)
		bl_pin(0);
	for (uint64_t i = 1; i <= total; i++) {
		uint64_t t0 = bl_now_ns();

		atomic_store_explicit(&l->ping, i, memory_order_release);
		while (atomic_load_explicit(&l->pong, memory_order_acquire) != i)
			;
		if (i > WARMUP)
			s[i - WARMUP - 1] = (double)(bl_now_ns() - t0) / 2;
	}
	if (bl_wait(pid))
		return 1;
	bl_sort(s, n);
	if (o.json)
		printf("{\"bench\":\"cacheline_pingpong\",\"processes\":2,\"pinned\":%s,\"iterations\":%llu,"
		       "\"half_rtt_p50_ns\":%.1f,\"half_rtt_p99_ns\":%.1f,\"half_rtt_min_ns\":%.1f,"
		       "\"clock_overhead_ns\":%.1f}\n",
		       o.pin ? "true" : "false", (unsigned long long)n, bl_pct(s, n, 0.5),
		       bl_pct(s, n, 0.99), s[0], clk);
	else
		printf("cache-line ping-pong, 2 processes%s: half RTT p50 %.1f ns, p99 %.1f ns, min %.1f ns (clock %.1f ns)\n",
		       o.pin ? " (pinned)" : "", bl_pct(s, n, 0.5), bl_pct(s, n, 0.99), s[0], clk);
	free(s);
	return 0;
}
