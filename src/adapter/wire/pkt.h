/* SPDX-License-Identifier: MIT */
/*
 * RoCEv2 packets: IP (v4 or v6) + UDP + BTH + extension headers + payload
 * + pad + ICRC. wire_pkt_build() writes one; wire_pkt_parse() checks one
 * that arrived and only then exposes its fields.
 *
 * Buffers start at the IP header: the link layer (Ethernet, vnet header)
 * belongs to the port.
 */
#ifndef CIOV_WIRE_PKT_H
#define CIOV_WIRE_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "adapter/wire/hdr.h"
#include "adapter/wire/icrc.h"
#include "adapter/wire/opcode.h"

#define WIRE_ROCE_PORT   4791
#define WIRE_IP4_BYTES   20
#define WIRE_IP6_BYTES   40
#define WIRE_UDP_BYTES   8
#define WIRE_PMTU_MIN    256
#define WIRE_PMTU_MAX    4096
/* Largest header a packet can have: IPv6 + UDP + BTH + RETH + ImmDt. */
#define WIRE_BTH_EXT_MAX 64 /* BTH + extension headers of any opcode (40 at most) */
#define WIRE_HDR_MAX     (WIRE_IP6_BYTES + WIRE_UDP_BYTES + WIRE_BTH_EXT_MAX)
/* Pad (0..3) + ICRC. */
#define WIRE_TRAILER_MAX 8

/* X(name, text): the parser's verdicts. WIRE_OK is 0. */
#define WIRE_STATUSES(X) \
	X(OK,          "ok") \
	X(SHORT,       "packet shorter than its headers") \
	X(IP_VERSION,  "neither IPv4 nor IPv6") \
	X(IP_OPTIONS,  "IPv4 options or IPv6 extension headers") \
	X(IP_FRAGMENT, "IP fragment") \
	X(IP_CSUM,     "bad IPv4 header checksum") \
	X(IP_LEN,      "IP length disagrees with the buffer") \
	X(NOT_UDP,     "not UDP") \
	X(UDP_LEN,     "UDP length disagrees with the IP length") \
	X(UDP_PORT,    "not the RoCEv2 UDP port") \
	X(OPCODE,      "unknown opcode") \
	X(TVER,        "transport header version is not 0") \
	X(PAD,         "pad count wrong for the opcode or length") \
	X(LENGTH,      "payload length wrong for the opcode") \
	X(TOO_LONG,    "payload longer than the path MTU") \
	X(ICRC,        "ICRC mismatch")

enum wire_status {
#define WIRE_ST_ENUM(name, text) WIRE_##name,
	WIRE_STATUSES(WIRE_ST_ENUM)
#undef WIRE_ST_ENUM
	WIRE_NUM_STATUS
};

const char *wire_status_str(enum wire_status st);

/* How the UDP checksum is written. */
enum wire_csum {
	WIRE_CSUM_NONE,     /* 0 (IPv4 only; RoCEv2 allows it) */
	WIRE_CSUM_FULL,     /* computed in software */
	WIRE_CSUM_PARTIAL,  /* pseudo-header sum only, for checksum offload */
};

struct wire_ip_desc {
	int family;             /* AF_INET or AF_INET6 */
	uint8_t src[16];        /* IPv4: the first 4 bytes */
	uint8_t dst[16];
	uint8_t tclass;         /* IPv4 TOS / IPv6 traffic class (DSCP, ECN) */
	uint8_t ttl;            /* TTL / hop limit; 0 means 64 */
	uint16_t id;            /* IPv4 identification (covered by the ICRC) */
	uint32_t flow_label;    /* IPv6, 20 bits */
	uint16_t sport;         /* UDP source port (entropy) */
	uint16_t dport;         /* 0 means 4791 */
};

struct wire_bth_desc {
	uint8_t opcode;
	bool se, mig, ackreq, fecn, becn;
	uint16_t pkey;
	uint32_t dqpn;          /* 24 bits */
	uint32_t psn;           /* 24 bits */
};

/* Extension header values; only those the opcode carries are written. */
struct wire_ext_desc {
	struct { uint64_t va; uint32_t rkey, len; } reth;
	struct { uint8_t syn; uint32_t msn; } aeth;
	struct { uint32_t qkey, sqp; } deth;
	uint32_t imm;
	uint32_t ieth_rkey;
	struct { uint64_t va; uint32_t rkey; uint64_t swap_add, compare; } atmeth;
	uint64_t atmack_orig;
};

struct wire_pkt_desc {
	struct wire_ip_desc ip;
	struct wire_bth_desc bth;
	struct wire_ext_desc ext;
	enum wire_csum csum;
};

/*
 * Writes a whole packet for the payload in IOV into BUF (CAP bytes);
 * *LEN is its length. 0, -EINVAL (unknown opcode, payload on an opcode
 * without one, bad family, no checksum on IPv6) or -EMSGSIZE.
 */
int wire_pkt_build(void *buf, size_t cap, const struct wire_pkt_desc *d,
		   const struct iovec *iov, int iovcnt, size_t *len);

/*
 * The same in two halves, for payload gathered straight from memory:
 * wire_pkt_hdr() writes IP..extension headers for PAYLEN bytes of payload
 * (*HLEN bytes, at most WIRE_HDR_MAX); wire_pkt_finish() computes the ICRC
 * over those headers and the payload, writes pad + ICRC into TRAILER
 * (returns its length, 4..7) and, for WIRE_CSUM_FULL, the UDP checksum into
 * the headers. The packet on the wire is HDR, IOV, TRAILER.
 */
int wire_pkt_hdr(void *buf, size_t cap, const struct wire_pkt_desc *d,
		 size_t paylen, size_t *hlen);
size_t wire_pkt_finish(void *hdr, size_t hlen, enum wire_csum csum,
		       const struct iovec *iov, int iovcnt,
		       uint8_t trailer[WIRE_TRAILER_MAX]);

/*
 * Its parts, for a sender that builds many packets alike (the port):
 * wire_ipudp_hdr() writes the IP and UDP headers for a UDP payload of
 * UDPLEN bytes with both checksums 0 (the IPv4 one is masked out of the
 * ICRC; the sender fills them in where they are needed) and returns the IP
 * header's length; wire_bth_hdr() writes the BTH and the extension headers
 * of INFO's opcode (INFO->length bytes) with pad count PAD.
 */
size_t wire_ipudp_hdr(void *buf, const struct wire_ip_desc *ipd, size_t udplen);
void wire_bth_hdr(void *buf, const struct wire_opcode_info *info, const struct wire_bth_desc *b,
		  const struct wire_ext_desc *ext, unsigned pad);

/* Parser settings. */
struct wire_parse_cfg {
	uint16_t udp_port;      /* 0: accept any destination port */
	uint32_t pmtu;          /* 256..4096; 0 means 4096 */
	bool no_icrc;           /* skip the ICRC check (a NIC checked it) */
	bool ip_csum_ok;        /* skip the IPv4 header checksum (checked already) */
};

/* A packet the parser accepted. Pointers into the caller's buffer. */
struct wire_pkt {
	const uint8_t *ip;      /* IP header */
	size_t len;             /* IP total length, through the ICRC */
	int family;             /* AF_INET or AF_INET6 */
	const uint8_t *udp;
	const uint8_t *hdr;     /* BTH: pass to the bth_/reth_/... accessors */
	const struct wire_opcode_info *info;
	uint8_t opcode;
	const uint8_t *payload;
	uint32_t paylen;
	uint8_t pad;
	uint32_t icrc;          /* as received */
};

/*
 * Validates the IP packet in BUF (LEN bytes, possibly followed by link
 * padding beyond the IP length) and fills *PKT only on WIRE_OK.
 */
enum wire_status wire_pkt_parse(const void *buf, size_t len,
				const struct wire_parse_cfg *cfg,
				struct wire_pkt *pkt);

static inline uint16_t wire_udp_sport(const struct wire_pkt *pkt)
{
	return wire_ld16(pkt->udp);
}

static inline uint16_t wire_udp_dport(const struct wire_pkt *pkt)
{
	return wire_ld16(pkt->udp + 2);
}

/* Source and destination address (4 or 16 bytes, by pkt->family). */
static inline const uint8_t *wire_ip_src(const struct wire_pkt *pkt)
{
	return pkt->ip + (pkt->family == AF_INET6 ? 8 : 12);
}

static inline const uint8_t *wire_ip_dst(const struct wire_pkt *pkt)
{
	return pkt->ip + (pkt->family == AF_INET6 ? 24 : 16);
}

/* The Internet checksum helpers (RFC 1071), exposed for tests. */
uint16_t wire_ip4_csum(const void *iphdr);

#endif
