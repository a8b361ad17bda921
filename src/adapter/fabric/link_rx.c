/* SPDX-License-Identifier: MIT */
/*
 * A port's receive side: frames from the AF_PACKET socket, each with a
 * vnet header. Over veth a GSO frame arrives whole (the sender's super
 * packet); it is cut here into the packets it stands for, each given back
 * the IP and UDP header it had on the wire (its own IPv4 ID and lengths),
 * so that its ICRC checks exactly as a packet seen one by one would.
 *
 * Frames come from a receive ring (PACKET_RX_RING, TPACKET_V2) shared with
 * the kernel: an engine pass that finds nothing costs a memory read, not a
 * syscall. A slot holds a frame up to LINK_RING_FRAME bytes (any packet of
 * a 1500-byte link); a larger one (a GSO frame) the kernel also queues on
 * the socket (PACKET_COPY_THRESH) and marks its slot TP_STATUS_COPY, and
 * it is read with recv() in its turn, so the order holds. A kernel without
 * the ring leaves the port on recvmmsg alone.
 *
 * Security model: everything in a frame is hostile. The vnet header's
 * sizes, the IP header length and the segment size are checked against
 * the frame's length (from the ring slot or recv) before any is used;
 * each packet then goes through wire_pkt_parse() (framing, lengths, ICRC)
 * before the transport sees it.
 */
#include <errno.h>
#include <linux/if_packet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "adapter/adapter.h"
#include "adapter/fabric/link.h"

int link_rx_init(struct port *p)
{
	p->impl->rxbuf = malloc(LINK_RX_BUFS * LINK_RX_BUF);
	return p->impl->rxbuf ? 0 : -ENOMEM;
}

/* Parses the packet of LEN bytes at IP (that came in a frame with
 * Ethernet header ETH) and hands it on. CUT: it was cut out of a GSO frame
 * whose IP header checked, and its own IPv4 checksum is left 0. */
static int rx_one(struct port *p, const uint8_t *eth_hdr, uint8_t *ip, size_t len, bool cut,
		  port_rx_fn *fn, void *arg)
{
	struct wire_parse_cfg cfg = {.udp_port = p->udp_port, .pmtu = p->mtu, .ip_csum_ok = cut};
	struct wire_pkt pkt;
	enum wire_status st = wire_pkt_parse(ip, len, &cfg, &pkt);

	if (p->impl->dumper) {
		uint8_t *eth = (uint8_t *)ip - LINK_ETH_BYTES; /* room: see rx_frame */
		uint8_t save[LINK_ETH_BYTES];

		memcpy(save, eth, sizeof(save));
		memcpy(eth, eth_hdr, LINK_ETH_BYTES);
		if (cut && (ip[0] >> 4) == 4 && len >= WIRE_IP4_BYTES)
			wire_st16(ip + 10, wire_ip4_csum(ip)); /* as it was on the wire */
		capture_frame(p, eth, len + LINK_ETH_BYTES);
		memcpy(eth, save, sizeof(save));
	}
	if (st == WIRE_ICRC) {
		p->cnt.icrc_errors++;
		return 0;
	}
	if (st != WIRE_OK) {
		p->cnt.rcv_errors++;
		return 0;
	}
	p->cnt.rcv_pkts++;
	p->cnt.rcv_data += pkt.len;
	fn(arg, p, &pkt);
	return 1;
}

/* One frame: its packets, in order. */
static int rx_frame(struct port *p, uint8_t *buf, size_t len, port_rx_fn *fn, void *arg)
{
	struct virtio_net_hdr vh;
	uint8_t *ip = buf + sizeof(vh) + LINK_ETH_BYTES, *udp;
	size_t iplen, total, off, n = 0;
	uint32_t seg;
	uint16_t id0;
	uint8_t tmpl[WIRE_IP6_BYTES + WIRE_UDP_BYTES];
	uint8_t eth[LINK_ETH_BYTES];

	if (len < sizeof(vh) + LINK_ETH_BYTES + WIRE_IP4_BYTES + WIRE_UDP_BYTES) {
		p->cnt.rcv_errors++;
		return 0;
	}
	memcpy(&vh, buf, sizeof(vh));
	memcpy(eth, buf + sizeof(vh), sizeof(eth));
	len -= sizeof(vh) + LINK_ETH_BYTES;
	if (vh.gso_type == VIRTIO_NET_HDR_GSO_NONE)
		return rx_one(p, eth, ip, len, false, fn, arg);
	/* A GSO frame: one IP + UDP header, then segments of gso_size. Only
	 * UDP segmentation (UDP_L4) means that; UFO (IP fragments) does not. */
	if ((vh.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) != VIRTIO_NET_HDR_GSO_UDP_L4) {
		p->cnt.rcv_errors++;
		return 0;
	}
	iplen = (ip[0] >> 4) == 4 ? (size_t)(ip[0] & 15) * 4 : (ip[0] >> 4) == 6 ? WIRE_IP6_BYTES : 0;
	seg = vh.gso_size;
	if ((iplen != WIRE_IP4_BYTES && iplen != WIRE_IP6_BYTES) || len < iplen + WIRE_UDP_BYTES ||
	    seg < WIRE_BTH_BYTES + WIRE_ICRC_BYTES || seg > WIRE_PMTU_MAX + 64 ||
	    (iplen == WIRE_IP6_BYTES && ip[6] != IPPROTO_UDP) ||
	    (iplen == WIRE_IP4_BYTES && ip[9] != IPPROTO_UDP)) {
		p->cnt.rcv_errors++;
		return 0;
	}
	/* The frame's IPv4 checksum is checked once, for all its packets. */
	if (iplen == WIRE_IP4_BYTES && wire_ip4_csum(ip) != 0) {
		p->cnt.rcv_errors++;
		return 0;
	}
	udp = ip + iplen;
	memcpy(tmpl, ip, iplen + WIRE_UDP_BYTES);
	id0 = wire_ld16(tmpl + 4);
	total = len - iplen - WIRE_UDP_BYTES;
	for (off = 0; off < total; off += seg) {
		uint32_t sl = total - off < seg ? (uint32_t)(total - off) : seg;
		uint8_t *h = udp + WIRE_UDP_BYTES + off - WIRE_UDP_BYTES - iplen;
		uint32_t i = (uint32_t)(off / seg);

		/* The packet's own headers, just before its data: over the
		 * tail of the previous packet, which is done with. */
		memcpy(h, tmpl, iplen + WIRE_UDP_BYTES);
		if (iplen == WIRE_IP4_BYTES) {
			wire_st16(h + 2, (uint16_t)(iplen + WIRE_UDP_BYTES + sl));
			wire_st16(h + 4, (uint16_t)(id0 + i));
			wire_st16(h + 10, 0);
		} else {
			wire_st16(h + 4, (uint16_t)(WIRE_UDP_BYTES + sl));
		}
		wire_st16(h + iplen + 4, (uint16_t)(WIRE_UDP_BYTES + sl));
		n += (size_t)rx_one(p, eth, h, iplen + WIRE_UDP_BYTES + sl, true, fn, arg);
	}
	return (int)n;
}

#define RING_BYTES ((size_t)LINK_RING_BLOCK * LINK_RING_BLOCKS)

int link_rx_ring(struct port *p, int fd)
{
	struct port_impl *pi = p->impl;
	int v = TPACKET_V2, one = 1;
	struct tpacket_req req = {
		.tp_block_size = LINK_RING_BLOCK,
		.tp_block_nr = LINK_RING_BLOCKS,
		.tp_frame_size = LINK_RING_FRAME,
		.tp_frame_nr = LINK_RING_BLOCKS * (LINK_RING_BLOCK / LINK_RING_FRAME),
	};
	void *m;

	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_COPY_THRESH, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)))
		return -errno;
	m = mmap(NULL, RING_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		int err = -errno;
		struct tpacket_req none = {0};

		setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &none, sizeof(none));
		return err;
	}
	pi->ring = m;
	pi->ring_frames = req.tp_frame_nr;
	pi->ring_next = 0;
	return 0;
}

void link_rx_ring_free(struct port *p)
{
	if (p->impl->ring)
		munmap(p->impl->ring, RING_BYTES);
	p->impl->ring = NULL;
}

/* One slot of the ring: its frame, or the socket's next one for a frame
 * too large for it. */
static int rx_slot(struct port *p, struct tpacket2_hdr *h, uint32_t st, port_rx_fn *fn, void *arg)
{
	struct port_impl *pi = p->impl;
	const size_t vh = sizeof(struct virtio_net_hdr);

	if (st & TP_STATUS_COPY) {
		ssize_t n = recv(pi->fd, pi->rxbuf, LINK_RX_BUF, MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0 || (size_t)n > LINK_RX_BUF) {
			p->cnt.rcv_errors++;
			return 0;
		}
		return rx_frame(p, pi->rxbuf, (size_t)n, fn, arg);
	}
	/* Cut short with no copy queued: the socket's buffer was full, an
	 * overrun the kernel does not count (PACKET_STATISTICS) itself. */
	if (h->tp_snaplen < h->tp_len) {
		p->cnt.rcv_overruns++;
		return 0;
	}
	if (h->tp_mac < sizeof(*h) + vh || (size_t)h->tp_mac + h->tp_snaplen > LINK_RING_FRAME) {
		p->cnt.rcv_errors++;
		return 0;
	}
	return rx_frame(p, (uint8_t *)h + h->tp_mac - vh, h->tp_snaplen + vh, fn, arg);
}

static int rx_ring(struct port *p, port_rx_fn *fn, void *arg, int budget)
{
	struct port_impl *pi = p->impl;
	int delivered = 0;

	for (; budget > 0; budget--) {
		struct tpacket2_hdr *h =
			(struct tpacket2_hdr *)(pi->ring + (size_t)pi->ring_next * LINK_RING_FRAME);
		uint32_t st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);

		if (!(st & TP_STATUS_USER))
			break;
		delivered += rx_slot(p, h, st, fn, arg);
		__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		pi->ring_next = (pi->ring_next + 1) % pi->ring_frames;
	}
	return delivered;
}

void port_rx_sync(struct port *p)
{
	struct tpacket_stats st = {0};
	socklen_t len = sizeof(st);

	/* Reading the statistics resets them: each drop is added once. */
	if (p->up && !getsockopt(p->impl->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len))
		p->cnt.rcv_overruns += st.tp_drops;
}

int port_rx_poll(struct port *p, port_rx_fn *fn, void *arg, int budget)
{
	struct port_impl *pi = p->impl;
	struct mmsghdr mm[LINK_RX_BUFS];
	struct iovec iov[LINK_RX_BUFS];
	int got, delivered = 0;

	if (pi->ring)
		return rx_ring(p, fn, arg, budget);
	while (budget > 0) {
		int want = budget < LINK_RX_BUFS ? budget : LINK_RX_BUFS;

		for (int i = 0; i < want; i++) {
			iov[i] = (struct iovec){pi->rxbuf + (size_t)i * LINK_RX_BUF, LINK_RX_BUF};
			mm[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
		}
		got = recvmmsg(pi->fd, mm, (unsigned)want, MSG_DONTWAIT, NULL);
		if (got <= 0)
			break;
		for (int i = 0; i < got; i++) {
			if (mm[i].msg_hdr.msg_flags & MSG_TRUNC) {
				p->cnt.rcv_errors++;
				continue;
			}
			delivered += rx_frame(p, iov[i].iov_base, mm[i].msg_len, fn, arg);
		}
		budget -= got;
		if (got < want)
			break;
	}
	return delivered;
}
