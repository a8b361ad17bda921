/* SPDX-License-Identifier: MIT */
#ifndef CIOV_PD_H
#define CIOV_PD_H

#include <stdint.h>

#include "adapter/obj.h"

struct caller;

struct pd {
	struct obj obj;
};

/* The PD HANDLE that caller C may use (no reference taken). */
int pd_lookup(struct caller *c, uint32_t handle, struct pd **ret);

#endif
