/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>

#include "adapter/endpoint.h"
#include "adapter/obj.h"

const struct obj_type obj_types[CIOV_OBJ_MAX] = {
	[CIOV_OBJ_SEG] = {"seg", CIOV_QUOTA_segments, seg_destroy},
	[CIOV_OBJ_PD] = {"pd", CIOV_QUOTA_pds, pd_destroy},
	[CIOV_OBJ_MR] = {"mr", CIOV_QUOTA_mrs, mr_destroy},
	[CIOV_OBJ_CHAN] = {"channel", CIOV_QUOTA_channels, chan_destroy},
	[CIOV_OBJ_CQ] = {"cq", CIOV_QUOTA_cqs, cq_destroy},
	[CIOV_OBJ_SRQ] = {"srq", CIOV_QUOTA_srqs, srq_destroy},
	[CIOV_OBJ_QP] = {"qp", CIOV_QUOTA_qps, qp_destroy},
	[CIOV_OBJ_AH] = {"ah", CIOV_QUOTA_ahs, ah_destroy},
};

int obj_create(struct endpoint *ep, struct client *owner, enum ciov_obj_type type, size_t size,
	       struct obj **ret)
{
	const struct obj_type *t = &obj_types[type];
	struct obj *o;
	int err;

	err = ep_charge(ep, t->quota, 1);
	if (err)
		return err;
	o = calloc(1, size);
	if (!o) {
		err = -ENOMEM;
		goto err_uncharge;
	}
	o->type = type;
	o->ep = ep;
	o->owner = owner;
	err = pool_add(&ep->obj[type], o, &o->handle);
	if (err)
		goto err_free;
	*ret = o;
	return 0;

err_free:
	free(o);
err_uncharge:
	ep_uncharge(ep, t->quota, 1);
	return err;
}

void obj_free(struct obj *o)
{
	const struct obj_type *t = &obj_types[o->type];

	t->destroy(o);
	pool_del(&o->ep->obj[o->type], o->handle);
	ep_uncharge(o->ep, t->quota, 1);
	free(o);
}

int obj_destroy(struct obj *o)
{
	if (o->refs)
		return -EBUSY;
	obj_free(o);
	return 0;
}

struct obj *obj_find(struct endpoint *ep, enum ciov_obj_type type, uint32_t handle)
{
	if (type <= CIOV_OBJ_NONE || type >= CIOV_OBJ_MAX)
		return NULL;
	return pool_get(&ep->obj[type], handle);
}
