/* SPDX-License-Identifier: MIT */
/* libciov: protection domains. */
#include <errno.h>
#include <stdlib.h>

#include "lib/lib.h"

struct pd_priv {
	struct ciov_pd pub;
	struct lib_obj lo;
	int opened; /* attached to a provisioned PD, not created */
};

static void pd_release(struct lib_obj *lo)
{
	free(lib_container_of(lo, struct pd_priv, lo));
}

static int pd_new(struct ciov_endpoint *ep, uint32_t handle, int opened, struct ciov_pd **ret)
{
	struct pd_priv *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->pub.ep = ep;
	p->pub.handle = handle;
	p->opened = opened;
	lib_track(ep, &p->lo, pd_release);
	*ret = &p->pub;
	return 0;
}

int ciov_alloc_pd(struct ciov_endpoint *ep, struct ciov_pd **ret)
{
	struct ciov_ctl_none rq = {0};
	struct ciov_ctl_handle rp;
	int err;

	if (!ep)
		return -EINVAL;
	err = lib_call(ep, CIOV_CTL_PD_ALLOC, &rq, sizeof(rq), &rp, sizeof(rp), NULL, 0, NULL, 0);
	if (err)
		return err;
	err = pd_new(ep, rp.handle, 0, ret);
	if (err) {
		struct ciov_ctl_handle d = {.handle = rp.handle};

		lib_call(ep, CIOV_CTL_PD_DEALLOC, &d, sizeof(d), &rq, sizeof(rq), NULL, 0, NULL, 0);
	}
	return err;
}

int ciov_open_pd(struct ciov_endpoint *ep, uint32_t handle, struct ciov_pd **ret)
{
	struct ciov_ctl_handle rq = {.handle = handle};
	struct ciov_ctl_handle rp;
	int err;

	if (!ep)
		return -EINVAL;
	err = lib_call(ep, CIOV_CTL_PD_OPEN, &rq, sizeof(rq), &rp, sizeof(rp), NULL, 0, NULL, 0);
	if (err)
		return err;
	err = pd_new(ep, rp.handle, 1, ret);
	if (err)
		lib_close_handle(ep, CIOV_OBJ_PD, handle);
	return err;
}

int ciov_dealloc_pd(struct ciov_pd *pd)
{
	struct pd_priv *p;
	int err;

	if (!pd)
		return 0;
	p = lib_container_of(pd, struct pd_priv, pub);
	if (p->opened) {
		err = lib_close_handle(pd->ep, CIOV_OBJ_PD, pd->handle);
	} else {
		struct ciov_ctl_handle rq = {.handle = pd->handle};
		struct ciov_ctl_none rp;

		err = lib_call(pd->ep, CIOV_CTL_PD_DEALLOC, &rq, sizeof(rq), &rp, sizeof(rp), NULL,
			       0, NULL, 0);
	}
	if (err)
		return err;
	lib_untrack(&p->lo);
	free(p);
	return 0;
}
