/* SPDX-License-Identifier: MIT */
/* libciov: address handles. */
#include <errno.h>
#include <stdlib.h>

#include "lib/ring.h"

static void ah_release(struct lib_obj *lo)
{
	free(lib_container_of(lo, struct ah_priv, lo));
}

int ciov_create_ah(struct ciov_pd *pd, const struct ciov_ah_attr *attr, struct ciov_ah **ret)
{
	struct ciov_ctl_ah_create_req rq = {0};
	struct ciov_ctl_handle rp;
	struct ah_priv *ah;
	int err;

	if (!pd || !attr || !ret)
		return -EINVAL;
	ah = calloc(1, sizeof(*ah));
	if (!ah)
		return -ENOMEM;
	rq.pd = pd->handle;
	rq.attr = *attr;
	err = lib_call(pd->ep, CIOV_CTL_AH_CREATE, &rq, sizeof(rq), &rp, sizeof(rp), NULL, 0, NULL,
		       0);
	if (err) {
		free(ah);
		return err;
	}
	ah->pub.pd = pd;
	ah->pub.handle = rp.handle;
	ah->pub.attr = *attr;
	lib_track(pd->ep, &ah->lo, ah_release);
	*ret = &ah->pub;
	return 0;
}

int ciov_destroy_ah(struct ciov_ah *pub)
{
	struct ciov_ctl_handle rq;
	struct ciov_ctl_none rp;
	int err;

	if (!pub)
		return 0;
	rq = (struct ciov_ctl_handle){.handle = pub->handle};
	err = lib_call(pub->pd->ep, CIOV_CTL_AH_DESTROY, &rq, sizeof(rq), &rp, sizeof(rp), NULL, 0,
		       NULL, 0);
	if (err)
		return err;
	lib_untrack(&ah_priv_of(pub)->lo);
	free(ah_priv_of(pub));
	return 0;
}
