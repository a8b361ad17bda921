/* SPDX-License-Identifier: MIT */
/*
 * Wire layouts of the InfiniBand transport headers (IBA 9.2-9.5) and their
 * accessors. Every multi-byte field is big-endian on the wire; the structs
 * below name them with wire_be16/32/64 so no one reads one raw. Fields are
 * read and written through the inline accessors, which take a pointer to
 * the BTH and find every extension header through the opcode table
 * (wire_opcode_info[op].offset[]), never by a hand-computed offset.
 *
 * An accessor for an extension header the opcode does not carry is a bug
 * (assert). The accessors do no bounds checks: call them only on a packet
 * wire_pkt_parse() accepted, or on a buffer of at least
 * wire_opcode_info[op].length bytes you are building.
 */
#ifndef CIOV_WIRE_HDR_H
#define CIOV_WIRE_HDR_H

#include <assert.h>
#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "adapter/wire/opcode.h"

typedef uint16_t wire_be16;
typedef uint32_t wire_be32;
typedef uint64_t wire_be64;

#define WIRE_PACKED __attribute__((packed))

/* Base Transport Header, 12 bytes. */
struct wire_bth {
	uint8_t opcode;
	uint8_t flags;       /* SE:1 M:1 PadCnt:2 TVer:4 */
	wire_be16 pkey;
	wire_be32 qpn;       /* resv8a (RoCE: FECN:1 BECN:1 resv:6) | DestQP:24 */
	wire_be32 apsn;      /* AckReq:1 resv:7 | PSN:24 */
} WIRE_PACKED;

/* RDMA Extended Transport Header, 16 bytes. */
struct wire_reth {
	wire_be64 va;
	wire_be32 rkey;
	wire_be32 len;       /* DMA length of the whole message */
} WIRE_PACKED;

/* ACK Extended Transport Header, 4 bytes. */
struct wire_aeth {
	wire_be32 smsn;      /* Syndrome:8 | MSN:24 */
} WIRE_PACKED;

/* Datagram Extended Transport Header, 8 bytes. */
struct wire_deth {
	wire_be32 qkey;
	wire_be32 sqp;       /* resv:8 | SrcQP:24 */
} WIRE_PACKED;

/* Immediate data, 4 bytes (opaque: kept in wire order by verbs). */
struct wire_immdt {
	wire_be32 imm;
} WIRE_PACKED;

/* Invalidate Extended Transport Header, 4 bytes. */
struct wire_ieth {
	wire_be32 rkey;
} WIRE_PACKED;

/* Atomic Extended Transport Header, 28 bytes. */
struct wire_atmeth {
	wire_be64 va;
	wire_be32 rkey;
	wire_be64 swap_add;  /* swap data (CmpSwap) or add data (FetchAdd) */
	wire_be64 compare;
} WIRE_PACKED;

/* Atomic ACK Extended Transport Header, 8 bytes. */
struct wire_atmack {
	wire_be64 orig;      /* the remote data before the operation */
} WIRE_PACKED;

_Static_assert(sizeof(struct wire_bth) == WIRE_BTH_BYTES, "BTH is 12 bytes");
_Static_assert(sizeof(struct wire_reth) == WIRE_RETH_BYTES, "RETH is 16 bytes");
_Static_assert(sizeof(struct wire_aeth) == WIRE_AETH_BYTES, "AETH is 4 bytes");
_Static_assert(sizeof(struct wire_deth) == WIRE_DETH_BYTES, "DETH is 8 bytes");
_Static_assert(sizeof(struct wire_immdt) == WIRE_IMMDT_BYTES, "ImmDt is 4 bytes");
_Static_assert(sizeof(struct wire_ieth) == WIRE_IETH_BYTES, "IETH is 4 bytes");
_Static_assert(sizeof(struct wire_atmeth) == WIRE_ATMETH_BYTES, "AtomicETH is 28 bytes");
_Static_assert(sizeof(struct wire_atmack) == WIRE_ATMACK_BYTES, "AtomicAckETH is 8 bytes");

#define WIRE_BTH_SE       0x80
#define WIRE_BTH_MIG      0x40
#define WIRE_BTH_PAD_SHIFT 4
#define WIRE_BTH_PAD_MASK 0x30
#define WIRE_BTH_TVER_MASK 0x0f
#define WIRE_BTH_FECN     0x80000000u
#define WIRE_BTH_BECN     0x40000000u
#define WIRE_BTH_ACKREQ   0x80000000u
#define WIRE_QPN_MASK     0x00ffffffu
#define WIRE_PSN_MASK     0x00ffffffu
#define WIRE_MSN_MASK     0x00ffffffu

/* Unaligned big-endian loads and stores. */
static inline uint16_t wire_ld16(const void *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return be16toh(v);
}

static inline uint32_t wire_ld32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return be32toh(v);
}

static inline uint64_t wire_ld64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return be64toh(v);
}

static inline void wire_st16(void *p, uint16_t v)
{
	v = htobe16(v);
	memcpy(p, &v, sizeof(v));
}

static inline void wire_st32(void *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, sizeof(v));
}

static inline void wire_st64(void *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, sizeof(v));
}

#define WIRE_FIELD(type, hdr, field) \
	((uint8_t *)(hdr) + __builtin_offsetof(type, field))
#define WIRE_CFIELD(type, hdr, field) \
	((const uint8_t *)(hdr) + __builtin_offsetof(type, field))

/* --- BTH: always at offset 0 --- */

static inline uint8_t bth_opcode(const void *hdr)
{
	return ((const struct wire_bth *)hdr)->opcode;
}

static inline bool bth_se(const void *hdr)
{
	return ((const struct wire_bth *)hdr)->flags & WIRE_BTH_SE;
}

static inline bool bth_mig(const void *hdr)
{
	return ((const struct wire_bth *)hdr)->flags & WIRE_BTH_MIG;
}

static inline unsigned int bth_pad(const void *hdr)
{
	return (((const struct wire_bth *)hdr)->flags & WIRE_BTH_PAD_MASK) >>
		WIRE_BTH_PAD_SHIFT;
}

static inline unsigned int bth_tver(const void *hdr)
{
	return ((const struct wire_bth *)hdr)->flags & WIRE_BTH_TVER_MASK;
}

static inline uint16_t bth_pkey(const void *hdr)
{
	return wire_ld16(WIRE_CFIELD(struct wire_bth, hdr, pkey));
}

static inline bool bth_fecn(const void *hdr)
{
	return wire_ld32(WIRE_CFIELD(struct wire_bth, hdr, qpn)) & WIRE_BTH_FECN;
}

static inline bool bth_becn(const void *hdr)
{
	return wire_ld32(WIRE_CFIELD(struct wire_bth, hdr, qpn)) & WIRE_BTH_BECN;
}

static inline uint32_t bth_dqpn(const void *hdr)
{
	return wire_ld32(WIRE_CFIELD(struct wire_bth, hdr, qpn)) & WIRE_QPN_MASK;
}

static inline bool bth_ackreq(const void *hdr)
{
	return wire_ld32(WIRE_CFIELD(struct wire_bth, hdr, apsn)) & WIRE_BTH_ACKREQ;
}

static inline uint32_t bth_psn(const void *hdr)
{
	return wire_ld32(WIRE_CFIELD(struct wire_bth, hdr, apsn)) & WIRE_PSN_MASK;
}

static inline void bth_set_opcode(void *hdr, uint8_t op)
{
	((struct wire_bth *)hdr)->opcode = op;
}

static inline void bth_set_flag(void *hdr, uint8_t bit, bool on)
{
	struct wire_bth *b = hdr;

	b->flags = (uint8_t)(on ? (b->flags | bit) : (b->flags & ~bit));
}

static inline void bth_set_se(void *hdr, bool on)
{
	bth_set_flag(hdr, WIRE_BTH_SE, on);
}

static inline void bth_set_mig(void *hdr, bool on)
{
	bth_set_flag(hdr, WIRE_BTH_MIG, on);
}

static inline void bth_set_pad(void *hdr, unsigned int pad)
{
	struct wire_bth *b = hdr;

	b->flags = (uint8_t)((b->flags & ~WIRE_BTH_PAD_MASK) |
			     ((pad << WIRE_BTH_PAD_SHIFT) & WIRE_BTH_PAD_MASK));
}

static inline void bth_set_tver(void *hdr, unsigned int tver)
{
	struct wire_bth *b = hdr;

	b->flags = (uint8_t)((b->flags & ~WIRE_BTH_TVER_MASK) |
			     (tver & WIRE_BTH_TVER_MASK));
}

static inline void bth_set_pkey(void *hdr, uint16_t pkey)
{
	wire_st16(WIRE_FIELD(struct wire_bth, hdr, pkey), pkey);
}

static inline void bth_set_qpn_word(void *hdr, uint32_t keep, uint32_t set)
{
	uint8_t *p = WIRE_FIELD(struct wire_bth, hdr, qpn);

	wire_st32(p, (wire_ld32(p) & keep) | set);
}

static inline void bth_set_fecn(void *hdr, bool on)
{
	bth_set_qpn_word(hdr, ~WIRE_BTH_FECN, on ? WIRE_BTH_FECN : 0);
}

static inline void bth_set_becn(void *hdr, bool on)
{
	bth_set_qpn_word(hdr, ~WIRE_BTH_BECN, on ? WIRE_BTH_BECN : 0);
}

static inline void bth_set_dqpn(void *hdr, uint32_t qpn)
{
	bth_set_qpn_word(hdr, ~WIRE_QPN_MASK, qpn & WIRE_QPN_MASK);
}

static inline void bth_set_ackreq(void *hdr, bool on)
{
	uint8_t *p = WIRE_FIELD(struct wire_bth, hdr, apsn);

	wire_st32(p, (wire_ld32(p) & ~WIRE_BTH_ACKREQ) | (on ? WIRE_BTH_ACKREQ : 0));
}

static inline void bth_set_psn(void *hdr, uint32_t psn)
{
	uint8_t *p = WIRE_FIELD(struct wire_bth, hdr, apsn);

	wire_st32(p, (wire_ld32(p) & ~WIRE_PSN_MASK) | (psn & WIRE_PSN_MASK));
}

/* --- Extension headers: found through the opcode table --- */

/* The extension header EXT of the packet whose BTH is at HDR. */
static inline uint8_t *wire_ext_ptr(const void *hdr, enum wire_ext ext,
				    uint32_t bit)
{
	const struct wire_opcode_info *info = wire_opcode_get(bth_opcode(hdr));

	assert(info->mask & bit);
	(void)bit;
	return (uint8_t *)hdr + info->offset[ext];
}

#define WIRE_EXT(hdr, X) wire_ext_ptr(hdr, WIRE_EXT_##X, WIRE_##X)

/* Generates get/set accessors for a field of an extension header. */
#define WIRE_ACCESSOR(pfx, X, type, field, bits, fmask) \
	static inline uint##bits##_t pfx##_##field(const void *hdr) \
	{ \
		return wire_ld##bits(WIRE_CFIELD(type, WIRE_EXT(hdr, X), field)) & (fmask); \
	} \
	static inline void pfx##_set_##field(void *hdr, uint##bits##_t v) \
	{ \
		uint8_t *p = WIRE_FIELD(type, WIRE_EXT(hdr, X), field); \
		wire_st##bits(p, (uint##bits##_t)((wire_ld##bits(p) & ~(fmask)) | (v & (fmask)))); \
	}

WIRE_ACCESSOR(reth, RETH, struct wire_reth, va, 64, UINT64_MAX)
WIRE_ACCESSOR(reth, RETH, struct wire_reth, rkey, 32, UINT32_MAX)
WIRE_ACCESSOR(reth, RETH, struct wire_reth, len, 32, UINT32_MAX)
WIRE_ACCESSOR(deth, DETH, struct wire_deth, qkey, 32, UINT32_MAX)
WIRE_ACCESSOR(deth, DETH, struct wire_deth, sqp, 32, WIRE_QPN_MASK)
WIRE_ACCESSOR(immdt, IMMDT, struct wire_immdt, imm, 32, UINT32_MAX)
WIRE_ACCESSOR(ieth, IETH, struct wire_ieth, rkey, 32, UINT32_MAX)
WIRE_ACCESSOR(atmeth, ATMETH, struct wire_atmeth, va, 64, UINT64_MAX)
WIRE_ACCESSOR(atmeth, ATMETH, struct wire_atmeth, rkey, 32, UINT32_MAX)
WIRE_ACCESSOR(atmeth, ATMETH, struct wire_atmeth, swap_add, 64, UINT64_MAX)
WIRE_ACCESSOR(atmeth, ATMETH, struct wire_atmeth, compare, 64, UINT64_MAX)
WIRE_ACCESSOR(atmack, ATMACK, struct wire_atmack, orig, 64, UINT64_MAX)

/* AETH: Syndrome (8 bits) and MSN (24 bits) share one word. */
static inline uint8_t aeth_syn(const void *hdr)
{
	return (uint8_t)(wire_ld32(WIRE_EXT(hdr, AETH)) >> 24);
}

static inline uint32_t aeth_msn(const void *hdr)
{
	return wire_ld32(WIRE_EXT(hdr, AETH)) & WIRE_MSN_MASK;
}

static inline void aeth_set_syn(void *hdr, uint8_t syn)
{
	uint8_t *p = WIRE_EXT(hdr, AETH);

	wire_st32(p, (wire_ld32(p) & WIRE_MSN_MASK) | ((uint32_t)syn << 24));
}

static inline void aeth_set_msn(void *hdr, uint32_t msn)
{
	uint8_t *p = WIRE_EXT(hdr, AETH);

	wire_st32(p, (wire_ld32(p) & ~WIRE_MSN_MASK) | (msn & WIRE_MSN_MASK));
}

/* The payload of the packet whose BTH is at HDR (parsed packets only). */
static inline uint8_t *wire_payload_ptr(const void *hdr)
{
	return (uint8_t *)hdr +
		wire_opcode_get(bth_opcode(hdr))->offset[WIRE_EXT_PAYLOAD];
}

#endif
