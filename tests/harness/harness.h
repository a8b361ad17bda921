/* SPDX-License-Identifier: MIT */
/*
 * Test harness: a real ciovd per test, in its own temporary runtime and
 * state directories, and a client for its admin socket.
 */
#ifndef CIOV_TEST_HARNESS_H
#define CIOV_TEST_HARNESS_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include <json-c/json.h>

struct th_daemon {
	pid_t pid;
	char rt[PATH_MAX]; /* runtime dir (sockets) */
	char st[PATH_MAX]; /* state dir */
	int admin;	   /* admin socket, connected lazily */
	char netns[64];	   /* network namespace it runs in, "" = ours */
};

/* Starts ciovd ($CIOV_CIOVD, else ./src/adapter/ciovd under $CIOV_BUILD)
 * in fresh temporary dirs and waits until both sockets accept. Also sets
 * CIOV_RUNTIME_DIR for libciov in this process. Returns 0 or -errno. */
int th_daemon_start(struct th_daemon *d);
/* The same, inside network namespace NETNS (`ip netns exec`). */
int th_daemon_start_in(struct th_daemon *d, const char *netns);
/* Same, reusing D's existing state dir (a restart). */
int th_daemon_restart(struct th_daemon *d);
/* SIGTERM and wait: returns ciovd's exit status (0 = clean shutdown, a
 * sanitizer report makes it non-zero), or -1 if it had to be killed. */
int th_daemon_stop(struct th_daemon *d);
/* SIGKILL, no cleanup by ciovd (crash simulation). Dirs are kept. */
void th_daemon_kill(struct th_daemon *d);
/* Removes D's temporary dirs. */
void th_daemon_cleanup(struct th_daemon *d);

/* Sends one admin request (printf-style JSON) and returns the reply
 * object (caller puts), or NULL if the daemon did not answer. */
struct json_object *th_admin(struct th_daemon *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Same, with fds passed by SCM_RIGHTS. */
struct json_object *th_admin_fds(struct th_daemon *d, const int *fds, int nfds, const char *fmt,
				 ...) __attribute__((format(printf, 4, 5)));
/* The reply's "ok" (false for NULL) and "errno" (0 if none). */
bool th_ok(struct json_object *rep);
int th_errno(struct json_object *rep);
/* Runs a request that must succeed; returns its reply (caller puts) or
 * NULL after printing why it failed. */
struct json_object *th_admin_ok(struct th_daemon *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Integer member of a reply (path of nested keys, NULL-terminated), or -1. */
long long th_get_int(struct json_object *o, ...);

/* Raw tenant protocol, for bad flows the library would never send. */
int th_tenant_connect(const struct th_daemon *d);
/* One request; returns the reply status (0 or -errno) or 1 when the
 * connection closed without a reply. Copies up to REP_LEN payload bytes
 * to REP (may be NULL); received fds are closed. */
int th_raw_call(int sock, unsigned op, const void *req, size_t req_len, void *rep, size_t rep_len,
		const int *fds, int nfds);
/* OPEN on a raw connection; returns the status. */
int th_raw_open(int sock, const char *endpoint);

/* Resource use of the daemon: open fds and resident set in KiB. */
int th_daemon_nfds(const struct th_daemon *d);
long th_daemon_rss_kb(const struct th_daemon *d);

#endif
