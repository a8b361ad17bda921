/* SPDX-License-Identifier: MIT */
/* A tenant connection on the tenant socket (one libciov endpoint open). */
#ifndef CIOV_CLIENT_H
#define CIOV_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "adapter/async.h"
#include "adapter/loop.h"

struct adapter;
struct endpoint;
struct obj;

struct client {
	struct loop_src src;
	struct loop_deferred reap;
	struct adapter *ad;
	struct ucred cred;
	struct endpoint *ep; /* NULL until OPEN succeeds */
	struct client *ep_next;
	int doorbell;	      /* eventfd the tenant kicks, -1 before OPEN */
	struct loop_src bell; /* the engine's watch on it */
	struct async_q async; /* affiliated events for this tenant */
	struct obj **att;     /* provisioned objects this tenant opened */
	uint32_t natt;
	uint32_t catt;
	bool dead;
};

/* Accepts one connection from the tenant listener. */
void client_accept(struct loop_src *src, uint32_t events);
/* Disconnects C, releases what it opened and destroys what it created.
 * Safe from any callback; the memory is freed after the current batch. */
void client_kill(struct client *c);
/* Binds C to EP (OPEN). */
void client_bind(struct client *c, struct endpoint *ep);
/* Records that C opened O (takes a reference); -EALREADY if it had. */
int client_attach(struct client *c, struct obj *o);
/* Drops C's attachment to O: -ENOENT if it had none. */
int client_detach(struct client *c, struct obj *o);
bool client_attached(const struct client *c, const struct obj *o);

#endif
