/* SPDX-License-Identifier: MIT */
/* The QP state machine (IBA 10.3.1) and Modify QP (IBA 11.2.4.2). */
#ifndef CIOV_ADAPTER_QP_STATE_H
#define CIOV_ADAPTER_QP_STATE_H

#include <stdint.h>

#include <ciov/abi.h>

struct qp;

/* Outstanding RDMA READ / atomic requests per QP, either direction. */
#define QP_MAX_RD_ATOMIC 16

/* Every bit of enum ciov_qp_attr_mask. */
#define QP_ATTR_MASK_ALL ((1u << 21) - 1)

/* Whether a QP of TYPE may go from CUR to NEXT with attribute MASK: every
 * required attribute present, nothing beyond the optional ones. 0 or
 * -EINVAL. */
int qp_transition_check(enum ciov_qp_type type, enum ciov_qp_state cur,
			enum ciov_qp_state next, uint32_t mask);

/* The values of the attributes in MASK, on an adapter with NPORTS fabric
 * ports: 0 or -EINVAL (-EOPNOTSUPP for alternate paths, which this adapter
 * does not have). */
int qp_attr_check(enum ciov_qp_type type, uint32_t mask, const struct ciov_qp_attr_wire *attr,
		  unsigned nports);

/* Modify QP: checks everything first; a failed modify changes nothing. */
int qp_modify(struct qp *qp, uint32_t mask, const struct ciov_qp_attr_wire *attr);

#endif
