/* SPDX-License-Identifier: MIT */
/*
 * Two processes ping-pong through two eventfds with blocking reads: the
 * cost of a wake-up, what an engine that sleeps (or --event) pays per
 * handoff (FACTS.md: ~20 us each way). Reports the half round trip
 * p50/p99 in us. Not pinned by default (--pin: CPU 0 and 1).
 * --iters N: round trips (default 20000).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common.h"

#define DEFAULT_ITERS 20000
#define WARMUP 500

static int put(int fd)
{
	uint64_t one = 1;

	return write(fd, &one, sizeof(one)) == sizeof(one) ? 0 : -1;
}

static int get(int fd)
{
	uint64_t v;

	return read(fd, &v, sizeof(v)) == sizeof(v) ? 0 : -1;
}

int main(int argc, char **argv)
{
	int a2b = eventfd(0, EFD_CLOEXEC), b2a = eventfd(0, EFD_CLOEXEC);
	struct bl_opts o;
	uint64_t n, total;
	double *s;
	pid_t pid;

	bl_parse(argc, argv, &o, false, "two-process blocking eventfd ping-pong\n");
	n = o.iters ? o.iters : DEFAULT_ITERS;
	total = n + WARMUP;
	s = malloc(n * sizeof(*s));
	if (!s || a2b < 0 || b2a < 0)
		return 1;
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		if (o.pin)
			bl_pin(1);
		for (uint64_t i = 0; i < total; i++)
			if (get(a2b) || put(b2a))
				_exit(1);
		_exit(0);
	}
	if (o.pin)
		bl_pin(0);
	for (uint64_t i = 0; i < total; i++) {
		uint64_t t0 = bl_now_ns();

		if (put(a2b) || get(b2a))
			return 1;
		if (i >= WARMUP)
			s[i - WARMUP] = (double)(bl_now_ns() - t0) / 2;
	}
	if (bl_wait(pid))
		return 1;
	bl_sort(s, n);
	if (o.json)
		printf("{\"bench\":\"eventfd_pingpong\",\"processes\":2,\"pinned\":%s,\"iterations\":%llu,"
		       "\"half_rtt_p50_us\":%.3f,\"half_rtt_p99_us\":%.3f,\"half_rtt_min_us\":%.3f}\n",
		       o.pin ? "true" : "false", (unsigned long long)n, bl_pct(s, n, 0.5) / 1e3,
		       bl_pct(s, n, 0.99) / 1e3, s[0] / 1e3);
	else
		printf("eventfd ping-pong, blocking: half RTT p50 %.2f us, p99 %.2f us, min %.2f us\n",
		       bl_pct(s, n, 0.5) / 1e3, bl_pct(s, n, 0.99) / 1e3, s[0] / 1e3);
	free(s);
	return 0;
}
