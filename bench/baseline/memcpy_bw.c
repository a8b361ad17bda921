/* SPDX-License-Identifier: MIT */
/*
 * memcpy bandwidth, one thread: the ceiling of any copy the engine makes.
 * For each size 4 KiB .. 8 MiB (powers of two):
 *   hot:  memcpy between the same two buffers, again and again (in cache
 *         when they fit);
 *   cold: each copy takes the next pair of buffers of a 512 MiB arena, so
 *         the data has left the caches by the time it is copied again.
 * Reports GB/s (10^9 bytes per second): the median of TRIALS trials, and
 * the best. --iters N: copies per trial (default: 256 MiB worth, >= 8).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define MIN_SHIFT 12	       /* 4 KiB */
#define MAX_SHIFT 23	       /* 8 MiB */
#define ARENA (512ull << 20)   /* well beyond the last-level cache */
#define BUDGET (256ull << 20)  /* bytes per trial by default */
#define TRIALS 5

/* Tells the compiler the copy's result is used. */
static inline void use(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

static double trial(uint8_t *arena, size_t size, uint64_t iters, bool cold)
{
	size_t pairs = cold ? ARENA / (2 * size) : 1;
	uint64_t t0 = bl_now_ns(), t1;

	for (uint64_t i = 0; i < iters; i++) {
		uint8_t *src = arena + (i % pairs) * 2 * size;

		memcpy(src + size, src, size);
		use(src + size);
	}
	t1 = bl_now_ns();
	return (double)size * (double)iters / (double)(t1 - t0); /* bytes/ns = GB/s */
}

int main(int argc, char **argv)
{
	struct bl_opts o;
	uint8_t *arena;

	bl_parse(argc, argv, &o, false, "memcpy bandwidth, hot and cold, 4 KiB .. 8 MiB\n");
	arena = aligned_alloc(4096, ARENA);
	if (!arena) {
		perror("arena");
		return 1;
	}
	memset(arena, 0x5a, ARENA); /* fault every page in before timing */
	for (int cold = 0; cold <= 1; cold++) {
		for (int s = MIN_SHIFT; s <= MAX_SHIFT; s++) {
			size_t size = (size_t)1 << s;
			uint64_t iters = o.iters ? o.iters : BUDGET / size < 8 ? 8 : BUDGET / size;
			double r[TRIALS];

			trial(arena, size, iters / 8 + 1, cold); /* warm-up */
			for (int t = 0; t < TRIALS; t++)
				r[t] = trial(arena, size, iters, cold);
			bl_sort(r, TRIALS);
			if (o.json)
				printf("{\"bench\":\"memcpy\",\"mode\":\"%s\",\"bytes\":%zu,\"iterations\":%llu,"
				       "\"trials\":%d,\"gb_per_s\":%.2f,\"gb_per_s_best\":%.2f}\n",
				       cold ? "cold" : "hot", size, (unsigned long long)iters, TRIALS,
				       r[TRIALS / 2], r[TRIALS - 1]);
			else
				printf("memcpy %-4s %8zu B  %8.2f GB/s (best %.2f)\n", cold ? "cold" : "hot",
				       size, r[TRIALS / 2], r[TRIALS - 1]);
			fflush(stdout);
		}
	}
	free(arena);
	return 0;
}
