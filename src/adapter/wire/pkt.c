// SPDX-License-Identifier: MIT
/*
 * Security model: every byte handed to wire_pkt_parse() came off the wire
 * and is hostile. A peer, a switch or anyone who can reach the port's UDP
 * port can send any bytes, of any length, at any rate. So the parser
 *
 *   - reads nothing before checking the buffer holds it (every length is
 *     checked against LEN before the bytes it covers are touched);
 *   - trusts no length field: IP total length, UDP length, the opcode's
 *     header length and the pad count must all agree with each other and
 *     with the buffer, or the packet is rejected;
 *   - accepts only the opcodes of the table, transport version 0, payload
 *     no longer than the path MTU (exactly the MTU for FIRST/MIDDLE
 *     packets), no payload where the opcode has none;
 *   - checks the ICRC before returning WIRE_OK, so that a packet whose
 *     headers were damaged in flight never reaches the transport;
 *   - exposes the packet (struct wire_pkt, and so the header accessors)
 *     only when everything above held.
 *
 * What it cannot judge is left to the transport, which must still treat
 * the accepted fields as the peer's claims: QPNs, PSNs, keys, virtual
 * addresses and DMA lengths are checked against its own state.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "adapter/wire/pkt.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const wire_status_text[] = {
#define WIRE_ST_TEXT(name, text) [WIRE_##name] = text,
	WIRE_STATUSES(WIRE_ST_TEXT)
#undef WIRE_ST_TEXT
};

const char *wire_status_str(enum wire_status st)
{
	if ((unsigned int)st >= ARRAY_SIZE(wire_status_text))
		return "unknown status";
	return wire_status_text[st];
}

/* --- Internet checksum --- */

/* One's-complement sum of LEN bytes; ODD tells whether an odd number of
 * bytes came before (so this buffer starts on the low half of a word). */
static uint64_t csum_add(uint64_t sum, const void *buf, size_t len, bool *odd)
{
	const uint8_t *p = buf;

	if (len && *odd) {
		sum += p[0];
		p++;
		len--;
		*odd = false;
	}
	for (; len >= 2; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len) {
		sum += (uint32_t)p[0] << 8;
		*odd = true;
	}
	return sum;
}

static uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint16_t wire_ip4_csum(const void *iphdr)
{
	/* Ten 16-bit words, summed as five 32-bit ones in host order (the
	 * one's complement sum does not care), then back to wire order. */
	uint32_t w[5];
	uint64_t sum = 0;
	uint16_t r;

	memcpy(w, iphdr, sizeof(w));
	for (int i = 0; i < 5; i++)
		sum += w[i];
	r = (uint16_t)~csum_fold(sum);
	return ntohs(r);
}

/* Pseudo-header sum of the packet whose IP header is at IP. */
static uint64_t udp_pseudo_sum(const uint8_t *ip, uint16_t udplen)
{
	bool odd = false;
	uint64_t sum;

	if ((ip[0] >> 4) == 6)
		sum = csum_add(0, ip + 8, 32, &odd);
	else
		sum = csum_add(0, ip + 12, 8, &odd);
	return sum + IPPROTO_UDP + udplen;
}

/* --- Building --- */

static void write_ext(uint8_t *hdr, const struct wire_opcode_info *info,
		      const struct wire_ext_desc *e)
{
	uint32_t m = info->mask;

	if (m & WIRE_DETH) {
		deth_set_qkey(hdr, e->deth.qkey);
		deth_set_sqp(hdr, e->deth.sqp);
	}
	if (m & WIRE_RETH) {
		reth_set_va(hdr, e->reth.va);
		reth_set_rkey(hdr, e->reth.rkey);
		reth_set_len(hdr, e->reth.len);
	}
	if (m & WIRE_ATMETH) {
		atmeth_set_va(hdr, e->atmeth.va);
		atmeth_set_rkey(hdr, e->atmeth.rkey);
		atmeth_set_swap_add(hdr, e->atmeth.swap_add);
		atmeth_set_compare(hdr, e->atmeth.compare);
	}
	if (m & WIRE_AETH) {
		aeth_set_syn(hdr, e->aeth.syn);
		aeth_set_msn(hdr, e->aeth.msn);
	}
	if (m & WIRE_ATMACK)
		atmack_set_orig(hdr, e->atmack_orig);
	if (m & WIRE_IMMDT)
		immdt_set_imm(hdr, e->imm);
	if (m & WIRE_IETH)
		ieth_set_rkey(hdr, e->ieth_rkey);
}

size_t wire_ipudp_hdr(void *buf, const struct wire_ip_desc *ipd, size_t udplen)
{
	uint8_t *ip = buf, *udp;
	size_t iplen = ipd->family == AF_INET ? WIRE_IP4_BYTES : WIRE_IP6_BYTES;

	if (iplen == WIRE_IP4_BYTES) {
		ip[0] = 0x45;
		ip[1] = ipd->tclass;
		wire_st16(ip + 2, (uint16_t)(iplen + udplen));
		wire_st16(ip + 4, ipd->id);
		wire_st16(ip + 6, 0x4000);              /* DF */
		ip[8] = ipd->ttl ? ipd->ttl : 64;
		ip[9] = IPPROTO_UDP;
		wire_st16(ip + 10, 0);
		memcpy(ip + 12, ipd->src, 4);
		memcpy(ip + 16, ipd->dst, 4);
	} else {
		wire_st32(ip, 6u << 28 | (uint32_t)ipd->tclass << 20 |
			  (ipd->flow_label & 0xfffff));
		wire_st16(ip + 4, (uint16_t)udplen);
		ip[6] = IPPROTO_UDP;
		ip[7] = ipd->ttl ? ipd->ttl : 64;
		memcpy(ip + 8, ipd->src, 16);
		memcpy(ip + 24, ipd->dst, 16);
	}
	udp = ip + iplen;
	wire_st16(udp, ipd->sport);
	wire_st16(udp + 2, ipd->dport ? ipd->dport : WIRE_ROCE_PORT);
	wire_st16(udp + 4, (uint16_t)udplen);
	wire_st16(udp + 6, 0);
	return iplen;
}

void wire_bth_hdr(void *buf, const struct wire_opcode_info *info, const struct wire_bth_desc *b,
		  const struct wire_ext_desc *ext, unsigned pad)
{
	uint8_t *bth = buf;
	uint8_t flags = (uint8_t)((b->se ? WIRE_BTH_SE : 0) | (b->mig ? WIRE_BTH_MIG : 0) |
				  ((pad << WIRE_BTH_PAD_SHIFT) & WIRE_BTH_PAD_MASK)); /* TVer 0 */

	/* Three words (a packet's hot path: no read-modify-write per field). */
	wire_st32(bth, (uint32_t)b->opcode << 24 | (uint32_t)flags << 16 | b->pkey);
	wire_st32(bth + 4, (b->fecn ? WIRE_BTH_FECN : 0) | (b->becn ? WIRE_BTH_BECN : 0) |
				   (b->dqpn & WIRE_QPN_MASK));
	wire_st32(bth + 8, (b->ackreq ? WIRE_BTH_ACKREQ : 0) | (b->psn & WIRE_PSN_MASK));
	if (info->length > WIRE_BTH_BYTES) {
		memset(bth + WIRE_BTH_BYTES, 0, info->length - WIRE_BTH_BYTES);
		write_ext(bth, info, ext);
	}
}

int wire_pkt_hdr(void *buf, size_t cap, const struct wire_pkt_desc *d,
		 size_t paylen, size_t *hlen)
{
	const struct wire_ip_desc *ipd = &d->ip;
	const struct wire_opcode_info *info = wire_opcode_get(d->bth.opcode);
	size_t iplen, n, udplen;
	unsigned int pad = (unsigned int)(-paylen & 3);
	uint8_t *ip = buf, *udp;

	if (!info->name || (paylen && !(info->mask & WIRE_PAYLOAD)))
		return -EINVAL;
	if (ipd->family == AF_INET)
		iplen = WIRE_IP4_BYTES;
	else if (ipd->family == AF_INET6 && d->csum != WIRE_CSUM_NONE)
		iplen = WIRE_IP6_BYTES;
	else
		return -EINVAL;
	n = iplen + WIRE_UDP_BYTES + info->length;
	if (paylen > 0xffff)
		return -EMSGSIZE;
	udplen = WIRE_UDP_BYTES + info->length + paylen + pad + WIRE_ICRC_BYTES;
	if (n > cap || udplen + (iplen == WIRE_IP4_BYTES ? iplen : 0) > 0xffff)
		return -EMSGSIZE;

	wire_ipudp_hdr(ip, ipd, udplen);
	if (iplen == WIRE_IP4_BYTES)
		wire_st16(ip + 10, wire_ip4_csum(ip));
	udp = ip + iplen;
	if (d->csum == WIRE_CSUM_PARTIAL)
		wire_st16(udp + 6, csum_fold(udp_pseudo_sum(ip, (uint16_t)udplen)));
	wire_bth_hdr(udp + WIRE_UDP_BYTES, info, &d->bth, &d->ext, pad);
	*hlen = n;
	return 0;
}

size_t wire_pkt_finish(void *hdr, size_t hlen, enum wire_csum csum,
		       const struct iovec *iov, int iovcnt,
		       uint8_t trailer[WIRE_TRAILER_MAX])
{
	uint8_t *ip = hdr;
	size_t iplen = (ip[0] >> 4) == 6 ? WIRE_IP6_BYTES : WIRE_IP4_BYTES;
	uint8_t *udp = ip + iplen;
	unsigned int pad = bth_pad(udp + WIRE_UDP_BYTES);
	size_t tlen = pad + WIRE_ICRC_BYTES;
	uint32_t crc;

	memset(trailer, 0, pad);
	crc = wire_icrc_hdr(ip, hlen);
	crc = wire_icrc_updatev(crc, iov, iovcnt);
	crc = wire_icrc_update(crc, trailer, pad);
	wire_icrc_store(trailer + pad, crc);

	if (csum == WIRE_CSUM_FULL) {
		uint16_t udplen = wire_ld16(udp + 4), c;
		bool odd = false;
		uint64_t sum = udp_pseudo_sum(ip, udplen);

		udp[6] = udp[7] = 0;
		sum = csum_add(sum, udp, hlen - iplen, &odd);
		for (int i = 0; i < iovcnt; i++)
			sum = csum_add(sum, iov[i].iov_base, iov[i].iov_len, &odd);
		sum = csum_add(sum, trailer, tlen, &odd);
		c = (uint16_t)~csum_fold(sum);
		wire_st16(udp + 6, c ? c : 0xffff);     /* 0 means "none" */
	}
	return tlen;
}

int wire_pkt_build(void *buf, size_t cap, const struct wire_pkt_desc *d,
		   const struct iovec *iov, int iovcnt, size_t *len)
{
	uint8_t trailer[WIRE_TRAILER_MAX], *p = buf;
	size_t paylen = 0, hlen, tlen, off;
	struct iovec flat;
	int ret;

	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > 0xffff - paylen)
			return -EMSGSIZE;
		paylen += iov[i].iov_len;
	}
	ret = wire_pkt_hdr(buf, cap, d, paylen, &hlen);
	if (ret)
		return ret;
	if (cap - hlen < paylen + (-paylen & 3) + WIRE_ICRC_BYTES)
		return -EMSGSIZE;
	off = hlen;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len)
			memcpy(p + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	flat.iov_base = p + hlen;
	flat.iov_len = paylen;
	tlen = wire_pkt_finish(buf, hlen, d->csum, &flat, 1, trailer);
	memcpy(p + off, trailer, tlen);
	*len = off + tlen;
	return 0;
}

/* --- Parsing --- */

static enum wire_status parse_ip(const uint8_t *p, size_t len, bool csum_ok,
				 struct wire_pkt *pkt, size_t *iplen)
{
	size_t tot;

	if (len < 1)
		return WIRE_SHORT;
	switch (p[0] >> 4) {
	case 4:
		if (len < WIRE_IP4_BYTES)
			return WIRE_SHORT;
		if ((p[0] & 0x0f) != 5)
			return WIRE_IP_OPTIONS;
		tot = wire_ld16(p + 2);
		if (tot > len)
			return WIRE_SHORT;
		if (tot < WIRE_IP4_BYTES)
			return WIRE_IP_LEN;
		if (wire_ld16(p + 6) & 0x3fff)      /* MF or an offset */
			return WIRE_IP_FRAGMENT;
		if (p[9] != IPPROTO_UDP)
			return WIRE_NOT_UDP;
		if (!csum_ok && wire_ip4_csum(p) != 0)
			return WIRE_IP_CSUM;
		pkt->family = AF_INET;
		*iplen = WIRE_IP4_BYTES;
		break;
	case 6:
		if (len < WIRE_IP6_BYTES)
			return WIRE_SHORT;
		tot = WIRE_IP6_BYTES + (size_t)wire_ld16(p + 4);
		if (tot > len)
			return WIRE_SHORT;
		if (p[6] != IPPROTO_UDP)
			return p[6] == 0 || p[6] == 43 || p[6] == 44 || p[6] == 60 ?
				WIRE_IP_OPTIONS : WIRE_NOT_UDP;
		pkt->family = AF_INET6;
		*iplen = WIRE_IP6_BYTES;
		break;
	default:
		return WIRE_IP_VERSION;
	}
	pkt->ip = p;
	pkt->len = tot;
	return WIRE_OK;
}

enum wire_status wire_pkt_parse(const void *buf, size_t len,
				const struct wire_parse_cfg *cfg,
				struct wire_pkt *pkt)
{
	const uint8_t *p = buf, *udp, *bth;
	const struct wire_opcode_info *info;
	struct wire_pkt k = { 0 };
	uint32_t pmtu = cfg && cfg->pmtu ? cfg->pmtu : WIRE_PMTU_MAX;
	size_t iplen = 0, udplen, rest;
	unsigned int pad;
	enum wire_status st;

	st = parse_ip(p, len, cfg && cfg->ip_csum_ok, &k, &iplen);
	if (st)
		return st;
	/* From here on only k.len bytes exist: link padding is not ours. */
	if (k.len < iplen + WIRE_UDP_BYTES)
		return WIRE_SHORT;
	udp = p + iplen;
	udplen = wire_ld16(udp + 4);
	if (udplen != k.len - iplen)
		return WIRE_UDP_LEN;
	if (cfg && cfg->udp_port && wire_ld16(udp + 2) != cfg->udp_port)
		return WIRE_UDP_PORT;
	if (udplen < WIRE_UDP_BYTES + WIRE_BTH_BYTES + WIRE_ICRC_BYTES)
		return WIRE_SHORT;

	bth = udp + WIRE_UDP_BYTES;
	info = wire_opcode_get(bth_opcode(bth));
	if (!info->name)
		return WIRE_OPCODE;
	if (bth_tver(bth) != 0)
		return WIRE_TVER;
	if (udplen < (size_t)WIRE_UDP_BYTES + info->length + WIRE_ICRC_BYTES)
		return WIRE_SHORT;
	rest = udplen - WIRE_UDP_BYTES - info->length - WIRE_ICRC_BYTES;
	pad = bth_pad(bth);
	if (!(info->mask & WIRE_PAYLOAD)) {
		if (pad)
			return WIRE_PAD;
		if (rest)
			return WIRE_LENGTH;
	} else {
		if (rest & 3)
			return WIRE_LENGTH;  /* packets are whole 4-byte words */
		if (pad > rest)
			return WIRE_PAD;
		if (rest - pad > pmtu)
			return WIRE_TOO_LONG;
		if (!(info->mask & WIRE_END)) {
			/* FIRST, MIDDLE: exactly the QP's path MTU, an IB
			 * MTU up to the port's; the transport checks that it
			 * is the QP's (xresp_rx, xcomp). */
			if (pad)
				return WIRE_PAD;
			if (rest < WIRE_PMTU_MIN || (rest & (rest - 1)))
				return WIRE_LENGTH;
		}
	}

	k.udp = udp;
	k.hdr = bth;
	k.info = info;
	k.opcode = bth_opcode(bth);
	k.payload = bth + info->length;
	k.pad = (uint8_t)pad;
	k.paylen = (uint32_t)(rest - pad);
	k.icrc = wire_icrc_load(p + k.len - WIRE_ICRC_BYTES);
	if (!(cfg && cfg->no_icrc) &&
	    wire_icrc(p, k.len - WIRE_ICRC_BYTES) != k.icrc)
		return WIRE_ICRC;
	*pkt = k;
	return WIRE_OK;
}
