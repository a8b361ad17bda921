/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "adapter/log.h"

enum log_level log_threshold = LOG_LVL_INFO;

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const tag[] = {"error", "warn", "info", "debug"};
	va_list ap;

	if (lvl > log_threshold)
		return;
	fprintf(stderr, "ciovd: %s: ", tag[lvl]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool log_ratelimit(unsigned *tokens, long *stamp, unsigned burst)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	if (ts.tv_sec != *stamp) {
		*stamp = ts.tv_sec;
		*tokens = burst;
	}
	if (*tokens == 0)
		return false;
	(*tokens)--;
	return true;
}
