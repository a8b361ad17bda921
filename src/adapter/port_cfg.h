/* SPDX-License-Identifier: MIT */
/*
 * A fabric port's configuration, as the admin socket and the state file
 * give it (state_port.c): name, address, UDP port, MTU, and its QoS (the
 * SL->VL and VL arbitration tables of vlarb.h, parsed by vlarb_cfg.c). One
 * parser checks both, so that a port the admin socket refuses cannot come
 * back from the state file either.
 *
 * Ports that are configured but not open: a port whose address is not on
 * any interface when ciovd starts (boot order) stays in the configuration
 * and in the state file, shows as DOWN with the reason, and is opened again
 * every PORT_CFG_RETRY_MS until it opens or is deleted. It keeps its QoS
 * (`port set` changes it while DOWN) and gets it when it opens.
 */
#ifndef CIOV_PORT_CFG_H
#define CIOV_PORT_CFG_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "adapter/fabric/port.h"

struct adapter;

#define PORT_CFG_UDP_DEFAULT 4791  /* IANA: RoCEv2 */
#define PORT_CFG_RETRY_MS 2000	   /* between attempts to open a DOWN port */

struct port_cfg {
	char name[PORT_NAME_MAX];
	char addr[INET6_ADDRSTRLEN]; /* canonical text (inet_ntop) */
	int family;		     /* AF_INET or AF_INET6 */
	uint16_t udp;		     /* 1..65535 */
	uint32_t mtu;		     /* 0 = from the link, else 256..4096 */
	struct port_qos qos;	     /* checked (port_qos_check) */
};

/* A configured port that is not open, and why. */
struct port_down {
	struct port_cfg cfg;
	int err;       /* what port_add returned */
	char why[160]; /* its message */
};

/*
 * Checks and fills *CFG from the values of a request or of the state file:
 * NAME 1-15 characters of [A-Za-z0-9_.-], not starting with '-' or '.';
 * ADDR a unicast IPv4 or IPv6 address; UDP 1..65535; MTU 0, 256, 512,
 * 1024, 2048 or 4096. QOS is the default (port_qos_default). 0, or
 * -EINVAL with WHY saying what is wrong.
 */
int port_cfg_parse(const char *name, const char *addr, uint64_t udp, uint64_t mtu,
		   struct port_cfg *cfg, char *why, size_t wlen);
/* The configuration of an open port (its QoS: P->vl.cfg). */
void port_cfg_of(const struct port *p, struct port_cfg *cfg);
/* Gives open port P the (checked) QoS Q: the arbiter starts afresh
 * (deficits and the high-priority run zeroed), the byte counters stay. The
 * caller updates the engine (sched_active). */
void port_set_qos(struct port *p, const struct port_qos *q);

/* The configured ports that are not open, in the order they were saved. */
unsigned port_down_count(void);
const struct port_down *port_down_at(unsigned i);
const struct port_down *port_down_find(const char *name);
/* Gives DOWN port NAME the (checked) QoS Q, which it gets when it opens:
 * 0, or -ENOENT when no DOWN port has that name. */
int port_down_set_qos(const char *name, const struct port_qos *q);
/* Forgets a DOWN port (port.del). */
void port_down_del(struct adapter *ad, const char *name);

#endif
