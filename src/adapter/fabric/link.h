/* SPDX-License-Identifier: MIT */
/*
 * A port's private half (fabric/port.h is the public one): its sockets,
 * transmit batch, receive buffers, neighbour cache and capture.
 */
#ifndef CIOV_FABRIC_LINK_H
#define CIOV_FABRIC_LINK_H

#include <linux/virtio_net.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "adapter/fabric/port.h"
#include "adapter/loop.h"

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5 /* Linux 5.18; Debian 12's headers lack it */
#endif

#define LINK_ETH_BYTES 14
/* vnet header + Ethernet + IPv6 + UDP: the most a frame's headers take. */
#define LINK_FRAME_HDR (sizeof(struct virtio_net_hdr) + LINK_ETH_BYTES + WIRE_IP6_BYTES + WIRE_UDP_BYTES)
/* Frames (sendmmsg entries) one batch holds. */
#define LINK_TX_FRAMES 64
/* Packets one batch holds, and in one GSO frame at most. */
#define LINK_TX_PKTS 1024
#define LINK_GSO_SEGS 64
/* Payload spans one batch holds, and one frame (one sendmsg: UIO_MAXIOV). */
#define LINK_TX_IOV 4096
#define LINK_FRAME_IOV 1024
/* Receive buffers (one 64 KiB GSO frame each). */
#define LINK_RX_BUFS 16
#define LINK_RX_BUF (sizeof(struct virtio_net_hdr) + LINK_ETH_BYTES + 65536 + 64)
/* The receive ring (PACKET_RX_RING, TPACKET_V2): slots of LINK_RING_FRAME
 * bytes, which hold any packet up to a 1500-byte MTU; a larger frame (a
 * GSO frame) is also queued on the socket and read from there. */
#define LINK_RING_FRAME 2048
#define LINK_RING_BLOCK (64 * 1024)
#define LINK_RING_BLOCKS 256
/* The staging area: every segment of a batch, contiguous per frame. */
#define LINK_STAGE ((size_t)LINK_TX_FRAMES * 65536)
#define LINK_NEIGH 16

struct neigh {
	int family;
	uint8_t ip[16];	     /* the destination */
	uint8_t nh[16];	     /* its next hop: itself or a gateway */
	uint8_t mac[6];	     /* the next hop's */
	bool routed;	     /* nh is known */
	bool valid;	     /* mac is known */
	bool unreachable;    /* no route out of this port */
	uint32_t route_seq;  /* of the RTM_GETROUTE asked */
	uint64_t asked_ns;   /* first asked the kernel, 0 = never */
	uint64_t sent_ns;    /* last asked */
	uint64_t learned_ns; /* when valid */
};

struct link_pkt {
	uint8_t hdr[WIRE_HDR_MAX]; /* IP + UDP + BTH + ext, as this segment (IP checksum 0) */
	uint16_t hlen, iplen;
	uint32_t seglen; /* UDP payload: BTH .. ICRC */
	uint8_t *seg;	 /* the segment (BTH .. ICRC) in the staging area */
};

struct link_frame {
	uint8_t hdr[LINK_FRAME_HDR]; /* vnet + Ethernet + IP + UDP */
	uint16_t hlen;
	struct port_dst dst;
	uint8_t mac[6];
	uint16_t id0;	   /* IPv4 ID of the first segment */
	uint32_t first;	   /* index of its first packet in pkt[] */
	uint32_t npkts;
	uint32_t segsz;	   /* every segment's size but maybe the last's */
	uint32_t bytes;	   /* UDP payload bytes */
	uint32_t iov0, niov;
	bool closed;	   /* a shorter segment ended it */
};

struct port_impl {
	int fd;	     /* AF_PACKET, SOCK_RAW, vnet header */
	int rsv_fd;  /* UDP socket holding the port, dropping all */
	int nl_fd;   /* rtnetlink, for routes and neighbours */
	uint32_t nl_seq;
	struct loop_src nl_src;
	struct loop_src src;
	uint8_t prefix[16]; /* the interface's subnet */
	unsigned prefix_len;
	uint16_t ip_id;
	/* Transmit batch. */
	struct link_frame frame[LINK_TX_FRAMES];
	unsigned nframes;
	struct link_pkt pkt[LINK_TX_PKTS];
	unsigned npkts;
	struct iovec iov[LINK_TX_IOV];
	unsigned niov;
	/* Receive. */
	uint8_t *rxbuf; /* LINK_RX_BUFS * LINK_RX_BUF */
	uint8_t *ring;	/* the receive ring, NULL: recvmmsg only */
	unsigned ring_frames, ring_next;
	uint8_t *stage;	/* LINK_STAGE: the batch's segments, frame after frame */
	size_t staged;
	struct neigh neigh[LINK_NEIGH];
	unsigned neigh_next;
	/* Capture. */
	pcap_t *pcap;
	pcap_dumper_t *dumper;
	uint64_t cap_left; /* packets still to write, UINT64_MAX = no limit */
	uint64_t cap_pkts;
	struct loop_src cap_timer;
	void (*cap_done)(void *arg, uint64_t pkts, int err);
	void *cap_arg;
	uint8_t capbuf[LINK_ETH_BYTES + WIRE_HDR_MAX + 4096 + WIRE_TRAILER_MAX];
};

/* neigh.c: the link address of IP (family FAMILY) out of P: 0 and MAC,
 * -EAGAIN while the kernel resolves it, -EHOSTUNREACH when it did not. */
int neigh_lookup(struct port *p, int family, const uint8_t ip[16], uint8_t mac[6]);
/* Opens the netlink socket and watches it in the loop; neigh_close()
 * undoes it (and accepts a half-open port). */
int neigh_open(struct port *p);
void neigh_close(struct port *p);

/* capture.c: writes one packet (Ethernet frame of LEN bytes at BUF, or
 * HDR + IOV + TRAILER) if a capture runs. */
void capture_frame(struct port *p, const uint8_t *buf, size_t len);
void capture_pkt(struct port *p, const uint8_t eth[LINK_ETH_BYTES], const struct link_pkt *k);

/* link_tx.c / link_rx.c */
int link_tx_init(struct port *p);
int link_rx_init(struct port *p);
/* Sets up the receive ring on FD (before bind): 0, or -errno and the port
 * reads with recvmmsg. link_rx_ring_free() unmaps it. */
int link_rx_ring(struct port *p, int fd);
void link_rx_ring_free(struct port *p);

#endif
