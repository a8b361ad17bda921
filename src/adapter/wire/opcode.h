/* SPDX-License-Identifier: MIT */
/*
 * The InfiniBand transport opcodes carried by ciov's fabric (RC and UD),
 * generated from ONE table: the enum, the names, the header masks, the
 * header lengths and each extension header's offset all come from
 * WIRE_OPCODES below. Nothing else in the adapter lists opcodes.
 *
 * An opcode is 8 bits: the top 3 name the transport (RC 0x00, UC 0x20,
 * RD 0x40, UD 0x60), the low 5 the operation (IBA 9.2.1). Extension
 * headers follow the BTH in one fixed order (IBA 9.2): DETH, RETH,
 * AtomicETH, AETH, AtomicAckETH, ImmDt, IETH; an opcode's offsets are the
 * running sum of the sizes of the headers its mask names, in that order.
 */
#ifndef CIOV_WIRE_OPCODE_H
#define CIOV_WIRE_OPCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Header sizes in bytes (IBA 9.2-9.5). */
#define WIRE_BTH_BYTES     12
#define WIRE_DETH_BYTES     8
#define WIRE_RETH_BYTES    16
#define WIRE_ATMETH_BYTES  28
#define WIRE_AETH_BYTES     4
#define WIRE_ATMACK_BYTES   8
#define WIRE_IMMDT_BYTES    4
#define WIRE_IETH_BYTES     4
#define WIRE_ICRC_BYTES     4

/*
 * What an opcode's packet carries and means. The first seven bits are
 * extension headers, in wire order; the rest are properties.
 */
enum wire_mask {
	WIRE_DETH    = 1u << 0,
	WIRE_RETH    = 1u << 1,
	WIRE_ATMETH  = 1u << 2,
	WIRE_AETH    = 1u << 3,
	WIRE_ATMACK  = 1u << 4,
	WIRE_IMMDT   = 1u << 5,
	WIRE_IETH    = 1u << 6,
	WIRE_PAYLOAD = 1u << 7,   /* may carry payload (0..PMTU bytes) */
	WIRE_REQ     = 1u << 8,   /* requester -> responder */
	WIRE_ACK     = 1u << 9,   /* responder -> requester (ACK, READ/atomic response) */
	WIRE_START   = 1u << 10,  /* first packet of a message */
	WIRE_MIDDLE  = 1u << 11,  /* neither first nor last */
	WIRE_END     = 1u << 12,  /* last packet of a message */
	WIRE_SEND    = 1u << 13,  /* consumes a receive WQE */
	WIRE_WRITE   = 1u << 14,
	WIRE_READ    = 1u << 15,  /* READ request or response */
	WIRE_ATOMIC  = 1u << 16,  /* atomic request or response */
	WIRE_UD      = 1u << 17,  /* unreliable datagram transport */
};

/* The extension-header bits, in wire order (for iteration). */
#define WIRE_EXT_MASK (WIRE_DETH | WIRE_RETH | WIRE_ATMETH | WIRE_AETH | \
		       WIRE_ATMACK | WIRE_IMMDT | WIRE_IETH)
#define WIRE_ONLY     (WIRE_START | WIRE_END)

/*
 * X(name, code, mask). One line per opcode; names are the IBA's, so
 * "#name" is what analysers print (minus the RC_/UD_ prefix).
 */
#define WIRE_OPCODES(X) \
	X(RC_SEND_FIRST,                    0x00, WIRE_REQ | WIRE_SEND | WIRE_PAYLOAD | WIRE_START) \
	X(RC_SEND_MIDDLE,                   0x01, WIRE_REQ | WIRE_SEND | WIRE_PAYLOAD | WIRE_MIDDLE) \
	X(RC_SEND_LAST,                     0x02, WIRE_REQ | WIRE_SEND | WIRE_PAYLOAD | WIRE_END) \
	X(RC_SEND_LAST_WITH_IMMEDIATE,      0x03, WIRE_REQ | WIRE_SEND | WIRE_PAYLOAD | WIRE_END | WIRE_IMMDT) \
	X(RC_SEND_ONLY,                     0x04, WIRE_REQ | WIRE_SEND | WIRE_PAYLOAD | WIRE_ONLY) \
	X(RC_SEND_ONLY_WITH_IMMEDIATE,      0x05, WIRE_REQ | WIRE_SEND | WIRE_PAYLOAD | WIRE_ONLY | WIRE_IMMDT) \
	X(RC_RDMA_WRITE_FIRST,              0x06, WIRE_REQ | WIRE_WRITE | WIRE_PAYLOAD | WIRE_START | WIRE_RETH) \
	X(RC_RDMA_WRITE_MIDDLE,             0x07, WIRE_REQ | WIRE_WRITE | WIRE_PAYLOAD | WIRE_MIDDLE) \
	X(RC_RDMA_WRITE_LAST,               0x08, WIRE_REQ | WIRE_WRITE | WIRE_PAYLOAD | WIRE_END) \
	X(RC_RDMA_WRITE_LAST_WITH_IMMEDIATE, 0x09, WIRE_REQ | WIRE_WRITE | WIRE_SEND | WIRE_PAYLOAD | WIRE_END | WIRE_IMMDT) \
	X(RC_RDMA_WRITE_ONLY,               0x0a, WIRE_REQ | WIRE_WRITE | WIRE_PAYLOAD | WIRE_ONLY | WIRE_RETH) \
	X(RC_RDMA_WRITE_ONLY_WITH_IMMEDIATE, 0x0b, WIRE_REQ | WIRE_WRITE | WIRE_SEND | WIRE_PAYLOAD | WIRE_ONLY | WIRE_RETH | WIRE_IMMDT) \
	X(RC_RDMA_READ_REQUEST,             0x0c, WIRE_REQ | WIRE_READ | WIRE_ONLY | WIRE_RETH) \
	X(RC_RDMA_READ_RESPONSE_FIRST,      0x0d, WIRE_ACK | WIRE_READ | WIRE_PAYLOAD | WIRE_START | WIRE_AETH) \
	X(RC_RDMA_READ_RESPONSE_MIDDLE,     0x0e, WIRE_ACK | WIRE_READ | WIRE_PAYLOAD | WIRE_MIDDLE) \
	X(RC_RDMA_READ_RESPONSE_LAST,       0x0f, WIRE_ACK | WIRE_READ | WIRE_PAYLOAD | WIRE_END | WIRE_AETH) \
	X(RC_RDMA_READ_RESPONSE_ONLY,       0x10, WIRE_ACK | WIRE_READ | WIRE_PAYLOAD | WIRE_ONLY | WIRE_AETH) \
	X(RC_ACKNOWLEDGE,                   0x11, WIRE_ACK | WIRE_ONLY | WIRE_AETH) \
	X(RC_ATOMIC_ACKNOWLEDGE,            0x12, WIRE_ACK | WIRE_ATOMIC | WIRE_ONLY | WIRE_AETH | WIRE_ATMACK) \
	X(RC_COMPARE_SWAP,                  0x13, WIRE_REQ | WIRE_ATOMIC | WIRE_ONLY | WIRE_ATMETH) \
	X(RC_FETCH_ADD,                     0x14, WIRE_REQ | WIRE_ATOMIC | WIRE_ONLY | WIRE_ATMETH) \
	X(RC_SEND_LAST_WITH_INVALIDATE,     0x16, WIRE_REQ | WIRE_SEND | WIRE_PAYLOAD | WIRE_END | WIRE_IETH) \
	X(RC_SEND_ONLY_WITH_INVALIDATE,     0x17, WIRE_REQ | WIRE_SEND | WIRE_PAYLOAD | WIRE_ONLY | WIRE_IETH) \
	X(UD_SEND_ONLY,                     0x64, WIRE_UD | WIRE_REQ | WIRE_SEND | WIRE_PAYLOAD | WIRE_ONLY | WIRE_DETH) \
	X(UD_SEND_ONLY_WITH_IMMEDIATE,      0x65, WIRE_UD | WIRE_REQ | WIRE_SEND | WIRE_PAYLOAD | WIRE_ONLY | WIRE_DETH | WIRE_IMMDT)

enum wire_opcode {
#define WIRE_OP_ENUM(name, code, mask) WIRE_OP_##name = code,
	WIRE_OPCODES(WIRE_OP_ENUM)
#undef WIRE_OP_ENUM
};

/* Number of opcodes in the table (not the highest code). */
enum {
#define WIRE_OP_COUNT(name, code, mask) WIRE_OP_IDX_##name,
	WIRE_OPCODES(WIRE_OP_COUNT)
#undef WIRE_OP_COUNT
	WIRE_NUM_OPCODES
};

/* Index of each extension header in wire_opcode_info.offset[]. */
enum wire_ext {
	WIRE_EXT_DETH, WIRE_EXT_RETH, WIRE_EXT_ATMETH, WIRE_EXT_AETH,
	WIRE_EXT_ATMACK, WIRE_EXT_IMMDT, WIRE_EXT_IETH,
	WIRE_EXT_PAYLOAD,          /* where the payload starts */
	WIRE_NUM_EXT,
};

struct wire_opcode_info {
	const char *name;          /* NULL: not an opcode ciov speaks */
	uint32_t mask;             /* enum wire_mask */
	uint8_t length;            /* BTH + extension headers, bytes */
	uint8_t offset[WIRE_NUM_EXT]; /* from the BTH; 0 when absent */
};

/* Indexed by the 8-bit opcode; unknown codes have name == NULL. */
extern const struct wire_opcode_info wire_opcode_info[256];

static inline const struct wire_opcode_info *wire_opcode_get(uint8_t op)
{
	return &wire_opcode_info[op];
}

static inline bool wire_opcode_valid(uint8_t op)
{
	return wire_opcode_info[op].name != NULL;
}

/* "RC_SEND_FIRST", or "UNKNOWN" for a code not in the table. */
const char *wire_opcode_str(uint8_t op);

#endif
