/* SPDX-License-Identifier: MIT */
/*
 * A port's transmit side: packets are described (headers built here,
 * payload as spans of the tenant's memory) and queued; consecutive
 * packets to one destination whose UDP payloads are the same size become
 * one GSO frame (one vnet header, one IP and UDP header, the segments one
 * after the other), and port_tx_flush() hands every frame to the kernel in
 * one sendmmsg. The kernel cuts a GSO frame into wire packets, copies the
 * IP and UDP headers into each, fixes lengths and checksums and numbers
 * the IPv4 IDs from the first one; every segment's ICRC was computed here
 * over exactly those headers. Nothing is allocated per packet.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/ethernet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "adapter/adapter.h"
#include "adapter/fabric/link.h"
#include "adapter/wire/crc_copy.h"

int link_tx_init(struct port *p)
{
	p->impl->ip_id = (uint16_t)random();
	p->impl->stage = malloc(LINK_STAGE);
	return p->impl->stage ? 0 : -ENOMEM;
}

unsigned port_tx_room(struct port *p)
{
	struct port_impl *pi = p->impl;

	if (pi->nframes == LINK_TX_FRAMES)
		return 0;
	return LINK_TX_PKTS - pi->npkts;
}

static bool same_dst(const struct port_dst *a, const struct port_dst *b)
{
	/* Constant sizes: compared inline, not by a call to memcmp. */
	if (a->family != b->family || a->sport != b->sport)
		return false;
	return a->family == AF_INET ? memcmp(a->ip, b->ip, 4) == 0 : memcmp(a->ip, b->ip, 16) == 0;
}

/* The frame a packet of SEGLEN bytes in NIOV spans to DST may join, or
 * NULL. A frame is one sendmsg: at most UIO_MAXIOV spans, 64 KiB. */
static struct link_frame *tx_join(struct port_impl *pi, const struct port_dst *dst,
				  uint32_t seglen, unsigned iplen, unsigned niov)
{
	struct link_frame *f = pi->nframes ? &pi->frame[pi->nframes - 1] : NULL;

	if (!f || f->closed || !same_dst(&f->dst, dst) || f->npkts == LINK_GSO_SEGS ||
	    seglen > f->segsz || f->bytes + seglen + iplen + WIRE_UDP_BYTES > 65535 ||
	    f->niov + niov > LINK_FRAME_IOV)
		return NULL;
	return f;
}

/* UDP source port for DST: its own, else one from a hash of the address
 * (RoCEv2 uses 0xC000.. for entropy). */
static uint16_t tx_sport(const struct port_dst *dst)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	if (dst->sport)
		return dst->sport;
	for (int i = 0; i < 16; i++)
		h = (h ^ dst->ip[i]) * 16777619u;
	return (uint16_t)(0xc000 | ((h ^ (h >> 16)) & 0x3fff));
}

/* The IP and UDP headers of packet K, for UDP payload SEGLEN: the packet
 * before it in frame F (same destination) with this one's ID and lengths,
 * or built whole for the first packet of a frame. */
static void tx_ipudp(struct port *p, struct link_frame *f, struct link_pkt *k,
		     const struct port_dst *dst, uint32_t seglen)
{
	struct port_impl *pi = p->impl;
	uint8_t *ip = k->hdr, *udp = ip + k->iplen;
	uint16_t udplen = (uint16_t)(WIRE_UDP_BYTES + seglen);

	if (f) {
		const uint8_t *prev = pi->pkt[pi->npkts - 1].hdr;

		/* Constant sizes: a copy of a variable size is a string move. */
		if (k->iplen == WIRE_IP4_BYTES) {
			memcpy(ip, prev, WIRE_IP4_BYTES + WIRE_UDP_BYTES);
			wire_st16(ip + 2, (uint16_t)(WIRE_IP4_BYTES + udplen));
			wire_st16(ip + 4, (uint16_t)(f->id0 + f->npkts));
		} else {
			memcpy(ip, prev, WIRE_IP6_BYTES + WIRE_UDP_BYTES);
			wire_st16(ip + 4, udplen);
		}
		wire_st16(udp + 4, udplen);
		return;
	}
	struct wire_ip_desc ipd = {
		.family = p->family,
		.ttl = 64,
		.id = pi->ip_id,
		.sport = tx_sport(dst),
		.dport = p->udp_port,
	};
	memcpy(ipd.src, p->addr, 16);
	memcpy(ipd.dst, dst->ip, 16);
	wire_ipudp_hdr(ip, &ipd, udplen);
}

int port_tx(struct port *p, const struct port_dst *dst, const struct wire_pkt_desc *d,
	    const struct iovec *iov, int iovcnt)
{
	struct port_impl *pi = p->impl;
	const struct wire_opcode_info *info = wire_opcode_get(d->bth.opcode);
	struct link_frame *f;
	struct link_pkt *k;
	uint8_t mac[6], *seg, pre[WIRE_ICRC_PRE_MAX];
	size_t paylen = 0, off, prelen;
	unsigned iplen = p->family == AF_INET ? WIRE_IP4_BYTES : WIRE_IP6_BYTES, pad;
	uint32_t seglen, crc;
	unsigned niov = 2; /* BTH.., pad + ICRC */
	int err;

	if (!p->up || dst->family != p->family)
		return -EHOSTUNREACH;
	if (iovcnt < 0)
		return -EINVAL;
	for (int i = 0; i < iovcnt; i++) {
		paylen += iov[i].iov_len;
		niov += iov[i].iov_len != 0;
	}
	if (!info->name || (paylen && !(info->mask & WIRE_PAYLOAD)))
		return -EINVAL;
	/* Alone in a frame (with the frame's own headers) it must fit. */
	if (niov + 1 > LINK_FRAME_IOV || paylen > WIRE_PMTU_MAX)
		return -EMSGSIZE;
	if (pi->npkts == LINK_TX_PKTS || pi->niov + 2 > LINK_TX_IOV ||
	    pi->staged + WIRE_BTH_EXT_MAX + paylen + WIRE_TRAILER_MAX > LINK_STAGE)
		return -ENOBUFS;
	pad = (unsigned)(-paylen & 3);
	seglen = (uint32_t)(info->length + paylen + pad + WIRE_ICRC_BYTES);
	f = tx_join(pi, dst, seglen, iplen, niov);
	if (!f) {
		if (pi->nframes == LINK_TX_FRAMES)
			return -ENOBUFS;
		err = neigh_lookup(p, dst->family, dst->ip, mac);
		if (err)
			return err;
	}
	k = &pi->pkt[pi->npkts];
	k->iplen = (uint16_t)iplen;
	k->hlen = (uint16_t)(iplen + WIRE_UDP_BYTES + info->length);
	k->seglen = seglen;
	tx_ipudp(p, f, k, dst, seglen);
	wire_bth_hdr(k->hdr + iplen + WIRE_UDP_BYTES, info, &d->bth, &d->ext, pad);
	/* The segment is staged whole, payload copied out of the tenant's
	 * memory once and its ICRC computed in the same pass: over exactly
	 * the bytes sent (a tenant writing its buffer meanwhile cannot make
	 * them differ), and a frame's segments are one span for the kernel
	 * to copy (a span per header, payload piece and trailer costs it more
	 * than this copy). */
	k->seg = seg = pi->stage + pi->staged;
	/* BTH and extension headers: at most WIRE_BTH_EXT_MAX bytes, copied
	 * as that many (the payload overwrites the rest; the stage and hdr
	 * have room for it). */
	memcpy(seg, k->hdr + iplen + WIRE_UDP_BYTES, WIRE_BTH_EXT_MAX);
	/* The masked headers and the first span are one fold. */
	prelen = wire_icrc_pre(pre, k->hdr, k->hlen);
	off = info->length;
	crc = wire_crc_copy_pre(WIRE_ICRC_PRE_STATE, pre, prelen, seg + off,
				iovcnt ? iov[0].iov_base : NULL, iovcnt ? iov[0].iov_len : 0);
	off += iovcnt ? iov[0].iov_len : 0;
	for (int i = 1; i < iovcnt; i++) {
		crc = wire_crc_copy(crc, seg + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	if (pad) {
		memset(seg + off, 0, pad);
		crc = wire_icrc_update(crc, seg + off, pad);
	}
	wire_icrc_store(seg + off + pad, crc);
	pi->staged += seglen;
	if (!f) {
		f = &pi->frame[pi->nframes++];
		*f = (struct link_frame){.dst = *dst, .id0 = pi->ip_id, .first = pi->npkts,
					 .segsz = seglen, .iov0 = pi->niov};
		memcpy(f->mac, mac, 6);
		pi->niov++; /* slot for the frame's own headers */
	}
	pi->ip_id++;
	if (seglen < f->segsz)
		f->closed = true;
	f->npkts++;
	f->bytes += seglen;
	pi->npkts++;
	/* Segments of one frame are adjacent in the stage: one span. */
	if (f->niov == 2 && (uint8_t *)pi->iov[pi->niov - 1].iov_base +
					 pi->iov[pi->niov - 1].iov_len == seg)
		pi->iov[pi->niov - 1].iov_len += seglen;
	else
		pi->iov[pi->niov++] = (struct iovec){seg, seglen};
	f->niov = pi->niov - f->iov0;
	return 0;
}

static uint16_t fold(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* vnet + Ethernet + IP + UDP of frame F, from its first packet's. */
static void frame_hdr(struct port *p, struct link_frame *f)
{
	struct port_impl *pi = p->impl;
	const struct link_pkt *k = &pi->pkt[f->first];
	struct virtio_net_hdr *vh = (struct virtio_net_hdr *)f->hdr;
	uint8_t *eth = f->hdr + sizeof(*vh), *ip = eth + LINK_ETH_BYTES, *udp = ip + k->iplen;
	uint32_t udplen = WIRE_UDP_BYTES + f->bytes;
	uint64_t sum = 0;

	*vh = (struct virtio_net_hdr){
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.csum_start = (uint16_t)(LINK_ETH_BYTES + k->iplen),
		.csum_offset = 6,
		.hdr_len = (uint16_t)(LINK_ETH_BYTES + k->iplen + WIRE_UDP_BYTES),
	};
	if (f->npkts > 1) {
		vh->gso_type = VIRTIO_NET_HDR_GSO_UDP_L4;
		vh->gso_size = (uint16_t)f->segsz;
	}
	memcpy(eth, f->mac, 6);
	memcpy(eth + 6, p->mac, 6);
	eth[12] = p->family == AF_INET ? 0x08 : 0x86;
	eth[13] = p->family == AF_INET ? 0x00 : 0xdd;
	memcpy(ip, k->hdr, k->iplen + WIRE_UDP_BYTES);
	if (p->family == AF_INET) {
		wire_st16(ip + 2, (uint16_t)(WIRE_IP4_BYTES + udplen));
		wire_st16(ip + 10, 0);
		wire_st16(ip + 10, wire_ip4_csum(ip));
		for (int i = 12; i < 20; i += 2)
			sum += wire_ld16(ip + i);
	} else {
		wire_st16(ip + 4, (uint16_t)udplen);
		for (int i = 8; i < 40; i += 2)
			sum += wire_ld16(ip + i);
	}
	wire_st16(udp + 4, (uint16_t)udplen);
	/* Checksum partial: the pseudo header's sum, not inverted (the
	 * kernel adds the rest, per segment). */
	sum += IPPROTO_UDP + udplen;
	wire_st16(udp + 6, fold(sum));
	f->hlen = (uint16_t)(sizeof(*vh) + LINK_ETH_BYTES + k->iplen + WIRE_UDP_BYTES);
	pi->iov[f->iov0] = (struct iovec){f->hdr, f->hlen};
}

/* Writes every segment of F to the capture, as it will be on the wire. */
static void frame_capture(struct port *p, const struct link_frame *f)
{
	const uint8_t *eth = f->hdr + sizeof(struct virtio_net_hdr);

	for (uint32_t i = 0; i < f->npkts; i++)
		capture_pkt(p, eth, &p->impl->pkt[f->first + i]);
}

void port_tx_flush(struct port *p)
{
	struct port_impl *pi = p->impl;
	struct mmsghdr mm[LINK_TX_FRAMES];
	unsigned done = 0;

	if (!pi->nframes)
		return;
	for (unsigned i = 0; i < pi->nframes; i++) {
		frame_hdr(p, &pi->frame[i]);
		if (pi->dumper)
			frame_capture(p, &pi->frame[i]);
		mm[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &pi->iov[pi->frame[i].iov0],
						     .msg_iovlen = pi->frame[i].niov}};
	}
	while (done < pi->nframes) {
		int n = sendmmsg(pi->fd, mm + done, pi->nframes - done, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* A full queue (EAGAIN, ENOBUFS): these packets are
			 * lost, the transport retransmits. Any other error is
			 * this frame's: it alone is lost. */
			bool full = n == 0 || errno == EAGAIN || errno == EWOULDBLOCK ||
				    errno == ENOBUFS;
			unsigned end = full ? pi->nframes : done + 1;

			for (unsigned i = done; i < end; i++)
				p->cnt.xmit_discards += pi->frame[i].npkts;
			done = end;
			continue;
		}
		for (int i = 0; i < n; i++) {
			const struct link_frame *f = &pi->frame[done + (unsigned)i];

			p->cnt.xmit_pkts += f->npkts;
			p->cnt.xmit_data += f->bytes + f->npkts * (uint64_t)(pi->pkt[f->first].iplen +
									      WIRE_UDP_BYTES);
		}
		done += (unsigned)n;
	}
	pi->nframes = pi->npkts = pi->niov = 0;
	pi->staged = 0;
}
