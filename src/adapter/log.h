/* SPDX-License-Identifier: MIT */
/* ciovd's log: stderr, one line per event, the object in the prefix. */
#ifndef CIOV_LOG_H
#define CIOV_LOG_H

#include <stdbool.h>

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

extern enum log_level log_threshold;

void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True at most BURST times per second for one call site (packet paths). */
bool log_ratelimit(unsigned *tokens, long *stamp, unsigned burst);

#define log_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/* Rate-limited warning: at most 10 lines a second from this call site. */
#define log_warn_rl(...)                                                       \
	do {                                                                   \
		static unsigned rl_tokens_;                                    \
		static long rl_stamp_;                                         \
		if (log_ratelimit(&rl_tokens_, &rl_stamp_, 10))                \
			log_msg(LOG_LVL_WARN, __VA_ARGS__);                    \
	} while (0)

#endif
