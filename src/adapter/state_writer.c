/* SPDX-License-Identifier: MIT */
/*
 * The state writer thread (state_writer.h). Jobs go in a FIFO under a
 * mutex; the thread takes them in order, and reports each finished one
 * through an eventfd that the loop watches; the loop's thread alone reads
 * the results and calls the waiters. Without a running writer (not
 * started, or shut down) a job is made durable at once, on the caller's
 * thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "adapter/log.h"
#include "adapter/state_writer.h"

#define STATE_PATH_MAX 4200 /* PATH_MAX + the file name */

struct job {
	struct job *next;
	uint64_t seq;
	int fd;
	int err;
	char tmp[STATE_PATH_MAX], path[STATE_PATH_MAX], dir[STATE_PATH_MAX];
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool running, stop;
	struct job *head, **tail; /* queued, oldest first */
	struct job *done;	  /* finished, for the loop (any order) */
	struct loop *loop;
	struct loop_src src; /* eventfd: jobs finished */
	uint64_t last;	     /* the last seq queued (loop thread) */
	uint64_t finished;   /* every seq up to this one finished (loop thread) */
	struct state_waiter *waiters;
	uint64_t ok_upto; /* the newest save that succeeded (loop thread) */
	int last_err;	  /* of the newest save that failed */
} w = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER, .src.fd = -1};

/* fsync, rename, fsync the directory: the old file stays whole until the
 * rename, and the rename is durable once the directory is. */
static int make_durable(struct job *j)
{
	int err = 0, dfd;

	if (fsync(j->fd) < 0)
		err = -errno;
	close(j->fd);
	j->fd = -1;
	if (!err && rename(j->tmp, j->path) < 0)
		err = -errno;
	if (err) {
		unlink(j->tmp);
		return err;
	}
	dfd = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		if (fsync(dfd) < 0)
			err = -errno;
		close(dfd);
	}
	return err;
}

static void *writer_main(void *arg)
{
	uint64_t one = 1;

	pthread_mutex_lock(&w.lock);
	for (;;) {
		struct job *j;

		while (!w.head && !w.stop)
			pthread_cond_wait(&w.cond, &w.lock);
		if (!w.head)
			break; /* stop, and nothing left */
		j = w.head;
		w.head = j->next;
		if (!w.head)
			w.tail = &w.head;
		pthread_mutex_unlock(&w.lock);
		j->err = make_durable(j);
		pthread_mutex_lock(&w.lock);
		j->next = w.done;
		w.done = j;
		if (write(w.src.fd, &one, sizeof(one)) < 0) {
			/* The counter cannot overflow at 2^64 - 1 wake-ups. */
		}
	}
	pthread_mutex_unlock(&w.lock);
	return arg;
}

/* Every save writes the whole configuration: save SEQ's change is durable
 * once that save or any later one succeeded. */
static int saved_err(uint64_t seq)
{
	return w.ok_upto >= seq ? 0 : w.last_err;
}

/* Calls the waiters whose save finished. */
static void wake_waiters(void)
{
	struct state_waiter **pp = &w.waiters;

	while (*pp) {
		struct state_waiter *x = *pp;

		if (x->seq > w.finished) {
			pp = &x->next;
			continue;
		}
		*pp = x->next;
		x->fn(x->arg, saved_err(x->seq));
	}
}

/* Loop thread: takes the finished jobs. Saves finish in order (one
 * thread, FIFO), so the newest finished one says how far they got. */
static void reap_done(void)
{
	struct job *d;

	pthread_mutex_lock(&w.lock);
	d = w.done;
	w.done = NULL;
	pthread_mutex_unlock(&w.lock);
	while (d) {
		struct job *next = d->next;

		if (d->err) {
			log_err("state: cannot save %s: %s", d->path, strerror(-d->err));
			w.last_err = d->err;
		} else if (d->seq > w.ok_upto) {
			w.ok_upto = d->seq;
		}
		if (d->seq > w.finished)
			w.finished = d->seq;
		free(d);
		d = next;
	}
	wake_waiters();
}

static void done_event(struct loop_src *src, uint32_t events)
{
	uint64_t n;

	(void)events;
	if (read(src->fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_err("state: writer eventfd: %s", strerror(errno));
	reap_done();
}

int state_writer_init(struct loop *loop)
{
	int err;

	w.tail = &w.head;
	w.src.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w.src.fd < 0)
		return -errno;
	w.src.fn = done_event;
	w.loop = loop;
	err = loop_add(loop, &w.src, EPOLLIN);
	if (!err) {
		/* Signals are the loop's (signalfd): the thread takes none. */
		sigset_t all, old;

		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		err = -pthread_create(&w.thread, NULL, writer_main, NULL);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (err) {
		if (w.loop)
			loop_del(loop, &w.src);
		close(w.src.fd);
		w.src.fd = -1;
		w.loop = NULL;
		return err;
	}
	w.running = true;
	return 0;
}

void state_writer_fini(void)
{
	if (!w.running)
		return;
	pthread_mutex_lock(&w.lock);
	w.stop = true;
	pthread_cond_signal(&w.cond);
	pthread_mutex_unlock(&w.lock);
	pthread_join(w.thread, NULL);
	w.running = false;
	reap_done();
	w.waiters = NULL;
	loop_del(w.loop, &w.src);
	close(w.src.fd);
	w.src.fd = -1;
}

uint64_t state_writer_queue(int fd, const char *tmp, const char *path, const char *dir)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j) {
		close(fd);
		unlink(tmp);
		return 0;
	}
	j->seq = ++w.last;
	j->fd = fd;
	snprintf(j->tmp, sizeof(j->tmp), "%s", tmp);
	snprintf(j->path, sizeof(j->path), "%s", path);
	snprintf(j->dir, sizeof(j->dir), "%s", dir);
	if (!w.running) {
		j->err = make_durable(j);
		j->next = w.done;
		w.done = j;
		reap_done();
		return w.last;
	}
	pthread_mutex_lock(&w.lock);
	*w.tail = j;
	w.tail = &j->next;
	pthread_cond_signal(&w.cond);
	pthread_mutex_unlock(&w.lock);
	return j->seq;
}

uint64_t state_writer_last(void)
{
	return w.last;
}

void state_writer_wait(struct state_waiter *x, uint64_t seq, state_saved_fn *fn, void *arg)
{
	*x = (struct state_waiter){.seq = seq, .fn = fn, .arg = arg, .next = w.waiters};
	if (seq <= w.finished) {
		fn(arg, saved_err(seq));
		return;
	}
	w.waiters = x;
}

void state_writer_unwait(struct state_waiter *x)
{
	for (struct state_waiter **pp = &w.waiters; *pp; pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			return;
		}
}
