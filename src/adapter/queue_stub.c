/* SPDX-License-Identifier: MIT */
/* Placeholder for channels, CQs, SRQs, QPs and AHs (being written). */
#include <errno.h>

#include "adapter/ctl.h"
#include "adapter/obj.h"

void chan_destroy(struct obj *o)
{
}
void cq_destroy(struct obj *o)
{
}
void srq_destroy(struct obj *o)
{
}
void qp_destroy(struct obj *o)
{
}
void ah_destroy(struct obj *o)
{
}

#define STUB(n, req, rep)                                                      \
	int ctl_##n(struct caller *c, const struct req *rq, struct rep *rp, int *fds_in,     \
		    int *fds_out)                                              \
	{                                                                      \
		return -EOPNOTSUPP;                                            \
	}
STUB(chan_create, ciov_ctl_none, ciov_ctl_chan_rep)
STUB(chan_destroy, ciov_ctl_handle, ciov_ctl_none)
STUB(cq_create, ciov_ctl_cq_create_req, ciov_ctl_cq_rep)
STUB(cq_destroy, ciov_ctl_handle, ciov_ctl_none)
STUB(cq_open, ciov_ctl_cq_open_req, ciov_ctl_cq_rep)
STUB(srq_create, ciov_ctl_srq_create_req, ciov_ctl_srq_rep)
STUB(srq_modify, ciov_ctl_srq_modify_req, ciov_ctl_srq_rep)
STUB(srq_destroy, ciov_ctl_handle, ciov_ctl_none)
STUB(srq_open, ciov_ctl_handle, ciov_ctl_srq_rep)
STUB(qp_create, ciov_ctl_qp_create_req, ciov_ctl_qp_rep)
STUB(qp_modify, ciov_ctl_qp_modify_req, ciov_ctl_none)
STUB(qp_query, ciov_ctl_handle, ciov_ctl_qp_query_rep)
STUB(qp_destroy, ciov_ctl_handle, ciov_ctl_none)
STUB(qp_open, ciov_ctl_handle, ciov_ctl_qp_rep)
STUB(ah_create, ciov_ctl_ah_create_req, ciov_ctl_handle)
STUB(ah_destroy, ciov_ctl_handle, ciov_ctl_none)
