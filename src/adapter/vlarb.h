/* SPDX-License-Identifier: MIT */
/*
 * Service levels and VL arbitration per port (IBA 7.6.6 and 7.6.9): a
 * QP's SL (0-15, set at modify to RTR) maps through the port's SL->VL
 * table to a data VL; the port's arbiter serves the VLs of its high- and
 * low-priority tables of (VL, weight) entries. Weights are in units of 64
 * bytes; after high_limit x 4 KiB of high-priority bytes while low-priority
 * work waits, one low-priority turn goes (255: no limit).
 *
 * The configuration (struct port_qos) comes from `ciovctl port set` and
 * the state file, checked by one parser (vlarb_cfg.c); the scheduler
 * (scheduler.c) arbitrates with it and counts bytes per SL and VL.
 *
 * Every VL the SL->VL table uses must have a weight in a table: a VL no
 * table lists would never be served (IBA), so such a setting is refused.
 */
#ifndef CIOV_VLARB_H
#define CIOV_VLARB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VLARB_SLS 16		/* SL 0..15 (IBA 7.6.5: 4 bits) */
#define VLARB_VLS 8		/* data VLs 0..7: the port's VLCap */
#define VLARB_ENTRIES 32	/* entries per table (IBA allows up to 64) */
#define VLARB_WEIGHT_MAX 255	/* an entry's weight: 0 (skipped) .. 255 */
#define VLARB_WEIGHT_UNIT 64	/* bytes per unit of weight (IBA 7.6.9) */
#define VLARB_LIMIT_UNIT 4096	/* bytes per unit of high_limit */
#define VLARB_LIMIT_NONE 255	/* high_limit: high priority is never held */
#define VLARB_LIMIT_DEFAULT 4	/* as OpenSM's default vl_high_limit */

struct vlarb_entry {
	uint8_t vl;
	uint8_t weight;
};

struct vlarb_table {
	uint8_t n; /* entries used */
	struct vlarb_entry e[VLARB_ENTRIES];
};

/* A port's QoS configuration. Default: every SL on VL 0, the low table
 * {0:255}, the high table empty, high_limit 4 (the adapter behaves as if
 * there were no VLs). */
struct port_qos {
	uint8_t sl2vl[VLARB_SLS];
	struct vlarb_table high, low;
	uint8_t high_limit;
};

/* The arbiter's running state and the counters of one port. */
struct port_vl {
	struct port_qos cfg;
	int64_t deficit[VLARB_VLS]; /* bytes a VL may still send this round */
	uint64_t high_run;	    /* high-priority bytes since low last went */
	uint32_t busy;		    /* VLs with work in the current pass (bit per VL) */
	uint32_t open;		    /* VLs with deficit left when the pass began */
	uint64_t sl_bytes[VLARB_SLS]; /* bytes sent per SL (requests) */
	uint64_t vl_bytes[VLARB_VLS]; /* bytes sent per VL */
	/* What the arbiter reads of cfg on every turn, derived by
	 * port_vl_derive whenever cfg changes. */
	bool arb;		    /* cfg is not the default: the port arbitrates */
	uint8_t high_vls;	    /* VLs with a weight in the high table (bit per VL) */
	int64_t quantum[VLARB_VLS]; /* each VL's bytes per round in its class */
};

/* ---- Configuration (vlarb_cfg.c) ---- */

void port_qos_default(struct port_qos *q);
bool port_qos_is_default(const struct port_qos *q);

/*
 * Applies one setting to *Q: KEY "sl2vl" with VALUE "SL:VL,..." (the SLs
 * listed change, the others keep their VL), "vlarb_high" / "vlarb_low"
 * with "VL:W,..." (replaces the table; "none" empties it), "high_limit"
 * with 0..255. 0, or -EINVAL with WHY saying what is wrong (*Q may then be
 * half changed: work on a copy, as port_qos_check's caller does).
 */
int port_qos_apply(struct port_qos *q, const char *key, const char *value, char *why,
		   size_t wlen);
/* Whether Q is consistent (every VL the SL->VL table uses has a nonzero
 * weight in a table): 0, or -EINVAL with WHY. */
int port_qos_check(const struct port_qos *q, char *why, size_t wlen);

/* The text forms `port set` takes and `port show` prints: "0:0,1:1,...",
 * "1:255,2:16" (or "none"). OUT gets at most LEN bytes, NUL-terminated. */
void port_qos_sl2vl_str(const struct port_qos *q, char *out, size_t len);
void vlarb_table_str(const struct vlarb_table *t, char *out, size_t len);

/* ---- Arbitration (scheduler.c) ---- */

/* Sets V's derived fields from V->cfg: after every change of cfg. */
void port_vl_derive(struct port_vl *v);

#endif
