/* SPDX-License-Identifier: MIT */
/*
 * Three processes pass a token A -> R -> B -> R -> A through cache lines
 * of a MAP_SHARED page; R relays both directions, as ciovd's engine does
 * between two tenants. Every spin loop calls sched_yield() when it finds
 * nothing (three hard spinners on two cores take milliseconds per round
 * trip, FACTS.md). Reports the half round trip p50/p99 in us. Not pinned
 * (--pin puts A and B on CPU 0 and 1, R where the scheduler likes).
 * --iters N: round trips (default 20000).
 */
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common.h"

#define DEFAULT_ITERS 20000
#define WARMUP 1000

struct lines {
	_Alignas(BL_LINE) _Atomic uint64_t a2r;
	_Alignas(BL_LINE) _Atomic uint64_t r2b;
	_Alignas(BL_LINE) _Atomic uint64_t b2r;
	_Alignas(BL_LINE) _Atomic uint64_t r2a;
};

static void wait_for(_Atomic uint64_t *v, uint64_t want)
{
	while (atomic_load_explicit(v, memory_order_acquire) != want)
		sched_yield();
}

int main(int argc, char **argv)
{
	struct bl_opts o;
	struct lines *l;
	uint64_t n, total;
	pid_t r, b;
	double *s;

	bl_parse(argc, argv, &o, false, "three-process relay A->R->B->R->A, yielding spins\n");
	n = o.iters ? o.iters : DEFAULT_ITERS;
	total = n + WARMUP;
	s = malloc(n * sizeof(*s));
	if (!s)
		return 1;
	l = bl_shared(sizeof(*l));

	r = fork();
	if (r == 0) { /* R: the relay serves whichever side has something */
		uint64_t fwd = 0, back = 0;

		while (back < total) {
			uint64_t v = atomic_load_explicit(&l->a2r, memory_order_acquire);
			bool idle = true;

			if (v != fwd) {
				fwd = v;
				atomic_store_explicit(&l->r2b, v, memory_order_release);
				idle = false;
			}
			v = atomic_load_explicit(&l->b2r, memory_order_acquire);
			if (v != back) {
				back = v;
				atomic_store_explicit(&l->r2a, v, memory_order_release);
				idle = false;
			}
			if (idle)
				sched_yield();
		}
		_exit(0);
	}
	b = fork();
	if (b == 0) { /* B: answer every token */
		if (o.pin)
			bl_pin(1);
		for (uint64_t i = 1; i <= total; i++) {
			wait_for(&l->r2b, i);
			atomic_store_explicit(&l->b2r, i, memory_order_release);
		}
		_exit(0);
	}
	if (r < 0 || b < 0)
		return 1;
	if (o.pin)
		bl_pin(0);
	for (uint64_t i = 1; i <= total; i++) {
		uint64_t t0 = bl_now_ns();

		atomic_store_explicit(&l->a2r, i, memory_order_release);
		wait_for(&l->r2a, i);
		if (i > WARMUP)
			s[i - WARMUP - 1] = (double)(bl_now_ns() - t0) / 2;
	}
	if (bl_wait(b) | bl_wait(r))
		return 1;
	bl_sort(s, n);
	if (o.json)
		printf("{\"bench\":\"relay3_yield\",\"processes\":3,\"pinned\":%s,\"iterations\":%llu,"
		       "\"half_rtt_p50_us\":%.3f,\"half_rtt_p99_us\":%.3f,\"half_rtt_min_us\":%.3f}\n",
		       o.pin ? "true" : "false", (unsigned long long)n, bl_pct(s, n, 0.5) / 1e3,
		       bl_pct(s, n, 0.99) / 1e3, s[0] / 1e3);
	else
		printf("relay A->R->B->R->A, yielding: half RTT p50 %.2f us, p99 %.2f us, min %.2f us\n",
		       bl_pct(s, n, 0.5) / 1e3, bl_pct(s, n, 0.99) / 1e3, s[0] / 1e3);
	free(s);
	return 0;
}
