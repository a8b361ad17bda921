/* SPDX-License-Identifier: MIT */
/* Baseline benchmarks: shared helpers (options, clock, percentiles). */
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "common.h"

void bl_parse(int argc, char **argv, struct bl_opts *o, bool pin_default, const char *help)
{
	*o = (struct bl_opts){.pin = pin_default};
	for (int i = 1; i < argc; i++) {
		char *end;

		if (!strcmp(argv[i], "--json")) {
			o->json = true;
		} else if (!strcmp(argv[i], "--pin")) {
			o->pin = true;
		} else if (!strcmp(argv[i], "--no-pin")) {
			o->pin = false;
		} else if (!strcmp(argv[i], "--iters") && i + 1 < argc) {
			o->iters = strtoull(argv[++i], &end, 10);
			if (*end || !o->iters)
				goto bad;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: %s [--iters N] [--json] [--pin|--no-pin]\n%s", argv[0], help);
			exit(0);
		} else {
			goto bad;
		}
		continue;
bad:
		fprintf(stderr, "%s: bad argument '%s'\nusage: %s [--iters N] [--json] [--pin|--no-pin]\n",
			argv[0], argv[i], argv[0]);
		exit(2);
	}
}

uint64_t bl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void bl_sort(double *s, size_t n)
{
	qsort(s, n, sizeof(*s), cmp);
}

double bl_pct(const double *s, size_t n, double q)
{
	size_t i = (size_t)(q * (double)n + 0.999999);

	if (!n)
		return 0;
	if (i < 1)
		i = 1;
	return s[(i > n ? n : i) - 1];
}

double bl_clock_overhead_ns(void)
{
	enum { N = 10001 };
	static double d[N];

	for (int i = 0; i < N; i++) {
		uint64_t a = bl_now_ns(), b = bl_now_ns();

		d[i] = (double)(b - a);
	}
	bl_sort(d, N);
	return d[N / 2];
}

void bl_pin(int cpu)
{
	cpu_set_t allowed, one;
	int n = 0;

	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		return;
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, &allowed))
			continue;
		if (n++ == cpu % CPU_COUNT(&allowed)) {
			CPU_ZERO(&one);
			CPU_SET(c, &one);
			sched_setaffinity(0, sizeof(one), &one);
			return;
		}
	}
}

void *bl_shared(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	memset(p, 0, len);
	return p;
}

int bl_wait(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) < 0)
		return 1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

int bl_ctl_exchange(int fd, const struct sockaddr_in *to, void *m, size_t len, uint32_t magic,
		    uint32_t want, int timeout_ms)
{
	uint8_t r[256];
	uint32_t head[2];

	if (len > sizeof(r))
		return -1;
	for (int waited = 0; waited < timeout_ms; waited += 100) {
		struct pollfd p = {.fd = fd, .events = POLLIN};

		sendto(fd, m, len, 0, (const struct sockaddr *)to, sizeof(*to));
		while (poll(&p, 1, 100) > 0) {
			if (recv(fd, r, sizeof(r), 0) != (ssize_t)len)
				continue;
			memcpy(head, r, sizeof(head));
			if (head[0] == magic && head[1] == want) {
				memcpy(m, r, len);
				return 0;
			}
		}
	}
	return -1;
}
