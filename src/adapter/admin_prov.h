/* SPDX-License-Identifier: MIT */
/*
 * The provisioning commands' view of abi.h: for every control operation,
 * the JSON form of its request and reply structs (admin_prov_abi.c).
 */
#ifndef CIOV_ADMIN_PROV_H
#define CIOV_ADMIN_PROV_H

#include <ciov/abi.h>

#include "adapter/admin_codec.h"

struct prov_codec {
	const struct codec_struct *req; /* the op's request struct */
	const struct codec_struct *rep; /* the op's reply struct */
	int fds_in;			/* fds the request carries */
	int fds_out;			/* fds the reply carries */
};

/* Indexed by enum ciov_ctl_op; generated from CIOV_CTL_OPS, so an op is
 * always coded with its own structs. Entries of ops that have no JSON form
 * (OPEN, the list reply...) have opaque structs (no members). */
extern const struct prov_codec prov_codecs[CIOV_CTL_OP_MAX];

#endif
