// SPDX-License-Identifier: MIT
/* The opcode table, expanded from WIRE_OPCODES at compile time. */
#include "adapter/wire/opcode.h"

/* Size of extension header BIT in MASK, or 0 when the mask lacks it. */
#define SZ(mask, bit, bytes) (((mask) & (bit)) ? (bytes) : 0)

/* Offsets are running sums in wire order; each is a constant expression. */
#define OFF_DETH(m)    WIRE_BTH_BYTES
#define OFF_RETH(m)    (OFF_DETH(m) + SZ(m, WIRE_DETH, WIRE_DETH_BYTES))
#define OFF_ATMETH(m)  (OFF_RETH(m) + SZ(m, WIRE_RETH, WIRE_RETH_BYTES))
#define OFF_AETH(m)    (OFF_ATMETH(m) + SZ(m, WIRE_ATMETH, WIRE_ATMETH_BYTES))
#define OFF_ATMACK(m)  (OFF_AETH(m) + SZ(m, WIRE_AETH, WIRE_AETH_BYTES))
#define OFF_IMMDT(m)   (OFF_ATMACK(m) + SZ(m, WIRE_ATMACK, WIRE_ATMACK_BYTES))
#define OFF_IETH(m)    (OFF_IMMDT(m) + SZ(m, WIRE_IMMDT, WIRE_IMMDT_BYTES))
#define OFF_END(m)     (OFF_IETH(m) + SZ(m, WIRE_IETH, WIRE_IETH_BYTES))
#define PRESENT(m, bit, off) (((m) & (bit)) ? (off) : 0)

#define WIRE_OP_INFO(nm, code, m) \
	[code] = { \
		.name = #nm, \
		.mask = (m), \
		.length = OFF_END(m), \
		.offset = { \
			[WIRE_EXT_DETH]    = PRESENT(m, WIRE_DETH, OFF_DETH(m)), \
			[WIRE_EXT_RETH]    = PRESENT(m, WIRE_RETH, OFF_RETH(m)), \
			[WIRE_EXT_ATMETH]  = PRESENT(m, WIRE_ATMETH, OFF_ATMETH(m)), \
			[WIRE_EXT_AETH]    = PRESENT(m, WIRE_AETH, OFF_AETH(m)), \
			[WIRE_EXT_ATMACK]  = PRESENT(m, WIRE_ATMACK, OFF_ATMACK(m)), \
			[WIRE_EXT_IMMDT]   = PRESENT(m, WIRE_IMMDT, OFF_IMMDT(m)), \
			[WIRE_EXT_IETH]    = PRESENT(m, WIRE_IETH, OFF_IETH(m)), \
			[WIRE_EXT_PAYLOAD] = OFF_END(m), \
		}, \
	},

const struct wire_opcode_info wire_opcode_info[256] = {
	WIRE_OPCODES(WIRE_OP_INFO)
};

const char *wire_opcode_str(uint8_t op)
{
	return wire_opcode_info[op].name ? wire_opcode_info[op].name : "UNKNOWN";
}
