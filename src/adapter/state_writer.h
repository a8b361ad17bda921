/* SPDX-License-Identifier: MIT */
/*
 * The state file's slow half, off the event loop: state_save() writes the
 * new file's bytes to a temporary file (errors there come back to its
 * caller, who undoes the change), and a writer thread makes it durable
 * (fsync, rename over state.json, fsync the directory), in the order the
 * saves were made. The engine runs on the loop's thread: an fsync there
 * stalled every tenant's data path for about a millisecond per admin
 * change.
 *
 * An admin request that saved waits for its save to be durable before its
 * reply goes out (admin.c), so "ok" still means "on disk".
 */
#ifndef CIOV_STATE_WRITER_H
#define CIOV_STATE_WRITER_H

#include <stdint.h>

#include "adapter/loop.h"

struct adapter;

typedef void state_saved_fn(void *arg, int err);

/* Someone waiting for save SEQ to be durable (embed it). */
struct state_waiter {
	uint64_t seq;
	state_saved_fn *fn;
	void *arg;
	struct state_waiter *next;
};

/* Starts the writer thread and its completion source on LOOP. 0 or -errno. */
int state_writer_init(struct loop *loop);
/* Finishes every queued save, then stops the thread (the loop is not
 * needed: waiters left are dropped). */
void state_writer_fini(void);

/* Queues FD (the bytes of TMP, written, not synced) to be made durable as
 * PATH in directory DIR; the writer closes FD. The save's sequence number,
 * or 0 with FD closed and TMP removed when there is no memory (-ENOMEM). */
uint64_t state_writer_queue(int fd, const char *tmp, const char *path, const char *dir);
/* The last save queued (0: none yet). */
uint64_t state_writer_last(void);
/* Calls FN(ARG, err) from the loop once save SEQ is durable (err 0) or
 * failed (-errno; the previous file is intact); at once if it already
 * finished. */
void state_writer_wait(struct state_waiter *w, uint64_t seq, state_saved_fn *fn, void *arg);
/* Forgets W (its requester went away). */
void state_writer_unwait(struct state_waiter *w);

#endif
