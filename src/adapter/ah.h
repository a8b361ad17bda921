/* SPDX-License-Identifier: MIT */
/* Address handles and address vectors (IBA 10.2.2.2, 11.2.2). */
#ifndef CIOV_ADAPTER_AH_H
#define CIOV_ADAPTER_AH_H

#include <stdint.h>

#include <ciov/abi.h>

#include "adapter/obj.h"

struct caller;
struct pd;

/* One port as IBA sees the endpoint, one P_Key table entry (0xffff); GID
 * table: the endpoint's GID, then one per fabric port (abi.h). */
#define CIOV_PORT_NUM 1
#define CIOV_SL_MAX 15
#define CIOV_FLOW_LABEL_MASK 0xfffffu /* 20 bits (IBA 8.3.1, GRH) */

struct ah {
	struct obj obj;
	struct pd *pd; /* reference held */
	struct ciov_ah_attr attr;
};

/* 0 if AV is an address vector this adapter, with NPORTS fabric ports, can
 * use, else -EINVAL. */
int ah_attr_check(const struct ciov_ah_attr *av, unsigned nports);
/* The AH HANDLE that caller C may use (no reference taken). */
int ah_lookup(struct caller *c, uint32_t handle, struct ah **ret);

#endif
