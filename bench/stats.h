/* SPDX-License-Identifier: MIT */
/* Timing and order statistics shared by the benchmarks. */
#ifndef CIOV_BENCH_STATS_H
#define CIOV_BENCH_STATS_H

#include <stdlib.h>
#include <time.h>

static inline double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Sorts V and returns its quantile Q (0..1). */
static inline double quantile(double *v, int n, double q)
{
	int i = (int)(q * (n - 1) + 0.5);

	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[i];
}

#endif
