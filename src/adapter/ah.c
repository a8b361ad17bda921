/* SPDX-License-Identifier: MIT */
/*
 * Address handles: a validated address vector in a PD, named by UD send
 * WQEs.
 *
 * Security model: every field of the address vector comes from the tenant
 * and is range-checked here before it is stored.
 */
#include <errno.h>
#include <string.h>

#include "adapter/ah.h"
#include "adapter/ctl.h"
#include "adapter/endpoint.h"
#include "adapter/pd.h"

void ah_destroy(struct obj *o)
{
	struct ah *ah = container_of(o, struct ah, obj);

	if (ah->pd)
		obj_put(obj_of(ah->pd));
}

int ah_attr_check(const struct ciov_ah_attr *av, unsigned nports)
{
	static const uint8_t zero_gid[sizeof(av->dgid)];

	/* RoCEv2: every packet carries the GRH (as an IP header), so the
	 * destination GID is mandatory. */
	if (memcmp(av->dgid, zero_gid, sizeof(zero_gid)) == 0)
		return -EINVAL;
	if (av->sl > CIOV_SL_MAX)		/* IBA 7.6.5: SL is 4 bits */
		return -EINVAL;
	if (av->port_num != CIOV_PORT_NUM)	/* one IBA port per endpoint */
		return -EINVAL;
	if (av->sgid_index > nports)		/* GID table: endpoint's, then the ports' */
		return -EINVAL;
	if (av->flow_label & ~CIOV_FLOW_LABEL_MASK)
		return -EINVAL;
	return 0;
}

int ah_lookup(struct caller *c, uint32_t handle, struct ah **ret)
{
	struct obj *o;
	int err = ctl_lookup(c, CIOV_OBJ_AH, handle, &o);

	if (!err)
		*ret = container_of(o, struct ah, obj);
	return err;
}

int ctl_ah_create(struct caller *c, const struct ciov_ctl_ah_create_req *rq,
		  struct ciov_ctl_handle *rp, int *fds_in, int *fds_out)
{
	struct pd *pd;
	struct ah *ah;
	struct obj *o;
	int err;

	err = pd_lookup(c, rq->pd, &pd);
	if (err)
		return err;
	err = ah_attr_check(&rq->attr, c->ep->ad->nports);
	if (err)
		return err;
	err = ctl_obj_create(c, CIOV_OBJ_AH, sizeof(*ah), &o);
	if (err)
		return err;
	ah = container_of(o, struct ah, obj);
	ah->pd = pd;
	obj_get(obj_of(pd));
	ah->attr = rq->attr;
	rp->handle = o->handle;
	return 0;
}

int ctl_ah_destroy(struct caller *c, const struct ciov_ctl_handle *rq, struct ciov_ctl_none *rp,
		   int *fds_in, int *fds_out)
{
	return ctl_obj_destroy(c, CIOV_OBJ_AH, rq->handle);
}
