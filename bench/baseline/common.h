/* SPDX-License-Identifier: MIT */
/*
 * Baseline benchmarks: the peers ciov is compared against, measured in the
 * same run (FACTS.md numbers drift between machines). Each program takes
 * --iters N and --json and prints one line per result; with --json each
 * line is a JSON object with a "bench" name field.
 */
#ifndef CIOV_BENCH_BASELINE_COMMON_H
#define CIOV_BENCH_BASELINE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct bl_opts {
	uint64_t iters; /* 0: the program's default */
	bool json;
	bool pin;	/* pin the processes to distinct CPUs where it applies */
};

/* Parses --iters N, --json, --pin, --no-pin, --help; exits 2 on a bad
 * option. pin_default is the program's default. */
void bl_parse(int argc, char **argv, struct bl_opts *o, bool pin_default, const char *help);
uint64_t bl_now_ns(void);
/* Sorts samples in place; nearest-rank percentile q (0..1). */
void bl_sort(double *s, size_t n);
double bl_pct(const double *sorted, size_t n, double q);
/* The cost of one bl_now_ns() call, ns (median of many). */
double bl_clock_overhead_ns(void);
/* Pins the calling process to CPU cpu modulo the CPUs it may use. */
void bl_pin(int cpu);
/* A page shared by this process and its children (MAP_SHARED). */
void *bl_shared(size_t len);
/* Waits for a child; returns its exit status (or 1 if it died). */
int bl_wait(pid_t pid);

struct sockaddr_in;
/* A control exchange over UDP: sends the LEN-byte message M (it starts with
 * two uint32_t, magic and op) to TO every 100 ms until a reply of LEN bytes
 * with MAGIC and op WANT arrives, which is copied into M; -1 after
 * TIMEOUT_MS. */
int bl_ctl_exchange(int fd, const struct sockaddr_in *to, void *m, size_t len, uint32_t magic,
		    uint32_t want, int timeout_ms);

#define BL_LINE 64 /* cache line */

#endif
