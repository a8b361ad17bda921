/* SPDX-License-Identifier: MIT */
/*
 * Fabric ports: ciovd's link to other adapters. A port owns one IP address
 * (IPv4 or IPv6) of an interface in ciovd's network namespace and speaks
 * RoCEv2 (UDP, port 4791 unless configured) on it. It writes whole frames
 * itself (Ethernet, IP, UDP) through an AF_PACKET socket with a vnet
 * header, so that it chooses the IPv4 ID the ICRC covers and hands the
 * kernel one 64 KiB GSO super-packet per send (doc/fabric.md).
 *
 * The transport (fabric/xport*.c) sees ports through this header only:
 * port_route() picks the port for a destination GID, port_tx() queues a
 * packet (headers described, payload gathered from the tenant's memory),
 * port_tx_flush() sends what is queued, port_rx_poll() delivers arriving
 * packets whose ICRC is right.
 */
#ifndef CIOV_FABRIC_PORT_H
#define CIOV_FABRIC_PORT_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "adapter/loop.h"
#include "adapter/vlarb.h"
#include "adapter/wire/pkt.h"

struct adapter;

#define PORT_NAME_MAX 16
#define PORT_MAX 8

/*
 * X(name, doc): the IBA PortCounters set (16.1.3.5) that applies here,
 * plus the transport's. Bytes, not the IBA's 4-byte words.
 */
#define PORT_COUNTERS(X)                                                       \
	X(xmit_data, "bytes sent (IP packets)")                                \
	X(rcv_data, "bytes received (IP packets)")                             \
	X(xmit_pkts, "packets sent")                                           \
	X(rcv_pkts, "packets received and accepted")                           \
	X(rcv_errors, "packets dropped as malformed (parser verdicts)")        \
	X(icrc_errors, "packets dropped for a bad ICRC")                       \
	X(rcv_discards, "well-formed packets dropped (unknown QP, bad key, out of window)") \
	X(rcv_overruns, "packets the kernel dropped for want of room (receive ring or buffer full)") \
	X(xmit_discards, "packets the kernel refused to send")                 \
	X(retransmits, "packets sent again (go-back-N, READ re-requests)")     \
	X(naks_sent, "NAKs sent (sequence, RNR, access, invalid, operational)") \
	X(naks_rcvd, "NAKs received")                                          \
	X(acks_sent, "ACKs sent (coalesced)")                                  \
	X(dup_rcvd, "duplicate requests received (re-ACKed or replayed)")      \
	X(seq_errors, "requests out of sequence (a NAK went out)")             \
	X(timeouts, "local ACK timeouts")

struct port_counters {
#define PORT_CNT_FIELD(name, doc) uint64_t name;
	PORT_COUNTERS(PORT_CNT_FIELD)
#undef PORT_CNT_FIELD
};

/* Where a packet goes: filled by port_route(), kept by the QP. */
struct port_dst {
	int family;        /* AF_INET or AF_INET6 */
	uint8_t ip[16];    /* IPv4: the first 4 bytes */
	uint16_t sport;    /* UDP source port: flow entropy (per QP) */
};

struct port_impl; /* sockets, buffers, neighbour cache, capture: port.c */

struct port {
	char name[PORT_NAME_MAX];
	struct adapter *ad;
	int family;               /* AF_INET or AF_INET6 */
	uint8_t addr[16];         /* IPv4: the first 4 bytes */
	uint16_t udp_port;        /* 4791 unless configured */
	uint32_t mtu_cfg;         /* asked for: 256..4096, 0 = from the link */
	uint32_t mtu;             /* active path MTU: 256, 512, 1024, 2048, 4096 */
	char ifname[IF_NAMESIZE];
	int ifindex;
	uint8_t mac[6];
	uint8_t gid[16];          /* GID index 0: RoCEv2 (IPv4-mapped or IPv6) */
	bool up;
	struct port_counters cnt;
	struct port_vl vl;        /* SL->VL, VL arbitration, bytes per SL/VL (vlarb.h) */
	struct port_impl *impl;
};

/* ---- Control (admin.c, state.c) ---- */

/* Opens port NAME on ADDR ("10.0.0.1", "fd00::1"); UDP 0 = 4791, MTU 0 =
 * the largest IB MTU the link carries. -EEXIST, -EINVAL (bad name, bad
 * MTU), -EADDRNOTAVAIL (no interface has ADDR), -EADDRINUSE, -ENOSPC. *ERR
 * is a message for the user on failure. */
int port_add(struct adapter *ad, const char *name, const char *addr, uint16_t udp,
	     uint32_t mtu, struct port **ret, const char **err);
void port_del(struct port *p);
struct port *port_find(struct adapter *ad, const char *name);
/* The ports, in the order they were added (GID table / device order). */
unsigned port_count(struct adapter *ad);
struct port *port_at(struct adapter *ad, unsigned i);
void port_fini_all(struct adapter *ad);

/* Captures the next packets of P (both directions, every GSO segment as
 * it is on the wire) into pcap file PATH; stops after COUNT packets (0: no
 * limit) or DURATION_MS (0: no limit), then calls DONE(ARG, packets, err). */
int port_capture_start(struct port *p, const char *path, uint64_t count, uint64_t duration_ms,
		       void (*done)(void *arg, uint64_t pkts, int err), void *arg);
/* Stops a capture early (DONE is called). */
void port_capture_stop(struct port *p);

/* ---- Data (the transport) ---- */

/* The port that reaches DGID (IPv4-mapped or IPv6 GID): the port whose
 * family matches and whose interface's subnet holds the address, else the
 * first port of that family. NULL when none. Fills DST (sport 0). */
struct port *port_route(struct adapter *ad, const uint8_t dgid[16], struct port_dst *dst);
/* Whether GID is one of this adapter's port GIDs. */
struct port *port_by_gid(struct adapter *ad, const uint8_t gid[16]);

/*
 * Queues one packet to DST: BTH and extension headers from D (only D->bth
 * and D->ext are read: the port writes the IP and UDP headers itself), payload gathered from
 * IOV at send time (the pointers must stay valid until port_tx_flush()).
 * Consecutive packets to the same DST whose UDP payloads are the same size
 * go out as one GSO super-packet. 0; -EAGAIN while DST's link address is
 * being resolved (nothing queued: try again later; the engine is woken
 * when it is known); -ENOBUFS when the batch is full (flush, then retry);
 * -EHOSTUNREACH when resolution failed (or DST is the port itself or has
 * no route out of its interface); -EMSGSIZE when the packet alone cannot
 * be one frame (payload above 4096 bytes, or more than 1021 spans).
 */
int port_tx(struct port *p, const struct port_dst *dst, const struct wire_pkt_desc *d,
	    const struct iovec *iov, int iovcnt);
/* Sends everything queued. */
void port_tx_flush(struct port *p);
/* Packets port_tx() can still take before a flush. */
unsigned port_tx_room(struct port *p);

/*
 * Receives up to BUDGET frames (a GSO frame counts once), splits GSO
 * frames into their packets, checks each (wire_pkt_parse with the port's
 * UDP port and MTU, ICRC included; failures counted, dropped) and calls
 * FN for each good one. PKT points into the port's buffer: valid during
 * the call only. Returns the packets delivered.
 */
typedef void port_rx_fn(void *arg, struct port *p, const struct wire_pkt *pkt);
int port_rx_poll(struct port *p, port_rx_fn *fn, void *arg, int budget);

/* The fd that becomes readable when packets arrive (the engine watches
 * it while asleep). */
int port_rx_fd(const struct port *p);
/* Adds to cnt.rcv_overruns what the kernel dropped since the last call
 * (PACKET_STATISTICS); counters shown to a user are synced first. */
void port_rx_sync(struct port *p);

/* GID of an IPv4 address (::ffff:a.b.c.d) or an IPv6 one. */
void port_gid_of(int family, const uint8_t ip[16], uint8_t gid[16]);
/* The family and IP of a RoCEv2 GID. */
int port_ip_of_gid(const uint8_t gid[16], uint8_t ip[16]);

#endif
