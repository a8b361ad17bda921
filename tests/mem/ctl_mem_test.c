/* SPDX-License-Identifier: MIT */
/*
 * Segment and MR control operations run in-process through ctl_call(), as
 * the tenant socket and the admin socket run them: native-mode flows
 * (manager provisions, tenant opens), key lookup and access checks for the
 * engine, reference counting and quotas.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "adapter/adapter.h"
#include "adapter/client.h"
#include "adapter/ctl.h"
#include "adapter/endpoint.h"
#include "adapter/iommu.h"
#include "adapter/log.h"
#include "adapter/mr.h"
#include "adapter/obj.h"
#include "adapter/pd.h"
#include "adapter/seg.h"

#define PG 4096ull

struct fx {
	struct adapter ad;
	struct endpoint *ep;
	struct client *t[2]; /* two tenant connections */
};

static struct client *tenant_new(struct fx *f)
{
	struct client *c = calloc(1, sizeof(*c));
	int sv[2];

	assert_non_null(c);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	close(sv[1]);
	c->ad = &f->ad;
	c->doorbell = -1;
	c->src.fd = sv[0];
	f->ad.nconns++;
	client_bind(c, f->ep);
	return c;
}

static int setup_mode(void **state, enum ciov_mode mode)
{
	struct fx *f = calloc(1, sizeof(*f));

	log_threshold = LOG_LVL_ERR;
	f->ad.lim.max_mr_size = 1ull << 40;
	pool_init(&f->ad.endpoints, 16);
	if (loop_init(&f->ad.loop) || ep_create(&f->ad, "e", 0, &f->ep))
		return -1;
	f->ep->mode = mode;
	f->t[0] = tenant_new(f);
	f->t[1] = tenant_new(f);
	*state = f;
	return 0;
}

static int setup_passthrough(void **state)
{
	return setup_mode(state, CIOV_MODE_PASSTHROUGH);
}

static int setup_native(void **state)
{
	return setup_mode(state, CIOV_MODE_NATIVE);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ep_destroy(f->ep); /* kills the tenants, frees every object */
	f->ad.loop.stop = true;
	loop_run(&f->ad.loop); /* runs the deferred client frees */
	loop_fini(&f->ad.loop);
	pool_fini(&f->ad.endpoints);
	free(f);
	return 0;
}

/* One control op as caller C (NULL = the manager). */
static int call(struct fx *f, struct client *c, enum ciov_ctl_op op, const void *rq, size_t rq_len,
		void *rp, int fd_in, int *fd_out)
{
	struct caller who = {.ep = f->ep, .client = c};
	union {
		char buf[CIOV_CTL_MSG_MAX];
		uint64_t align;
	} rep;
	int fds_in[1] = {fd_in >= 0 ? dup(fd_in) : -1};
	int fds_out[CIOV_CTL_FDS_MAX];
	size_t rep_len;
	int nout, err;

	err = ctl_call(&who, op, rq, rq_len, rep.buf, &rep_len, fds_in, fd_in >= 0, fds_out, &nout);
	if (!err && rp)
		memcpy(rp, rep.buf, rep_len);
	for (int i = 0; i < nout; i++) {
		if (fd_out && i == 0)
			*fd_out = fds_out[0];
		else
			close(fds_out[i]);
	}
	return err;
}

static int memfd(uint64_t size, int seals)
{
	int fd = memfd_create("t", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	assert_int_equal(fcntl(fd, F_ADD_SEALS, seals), 0);
	return fd;
}

static int seg_attach(struct fx *f, struct client *c, uint64_t iova, uint64_t len, uint32_t *h)
{
	struct ciov_ctl_seg_attach_req rq = {.iova = iova, .length = len};
	struct ciov_ctl_seg_rep rp;
	int fd = memfd(len, F_SEAL_SHRINK);
	int err = call(f, c, CIOV_CTL_SEG_ATTACH, &rq, sizeof(rq), &rp, fd, NULL);

	close(fd);
	if (!err && h)
		*h = rp.handle;
	return err;
}

static int handle_op(struct fx *f, struct client *c, enum ciov_ctl_op op, uint32_t handle)
{
	struct ciov_ctl_handle rq = {.handle = handle};

	return call(f, c, op, &rq, sizeof(rq), NULL, -1, NULL);
}

static uint32_t pd_alloc(struct fx *f, struct client *c)
{
	struct ciov_ctl_none rq = {0};
	struct ciov_ctl_handle rp;

	assert_int_equal(call(f, c, CIOV_CTL_PD_ALLOC, &rq, sizeof(rq), &rp, -1, NULL), 0);
	return rp.handle;
}

static int mr_reg(struct fx *f, struct client *c, uint32_t pd, uint64_t iova, uint64_t len,
		  unsigned access, struct ciov_ctl_mr_rep *rp)
{
	struct ciov_ctl_mr_reg_req rq = {.pd = pd, .access = access, .iova = iova, .length = len};
	struct ciov_ctl_mr_rep dummy;

	return call(f, c, CIOV_CTL_MR_REG, &rq, sizeof(rq), rp ? rp : &dummy, -1, NULL);
}

static struct mr *mr_obj(struct fx *f, uint32_t handle)
{
	struct obj *o = obj_find(f->ep, CIOV_OBJ_MR, handle);

	return o ? container_of(o, struct mr, obj) : NULL;
}

#define RW (CIOV_ACCESS_LOCAL_WRITE | CIOV_ACCESS_REMOTE_WRITE | CIOV_ACCESS_REMOTE_READ)

/* ------------------------------------------------------------------------ */

static void native_tenant_opens_the_managers_segment_and_shares_its_memory(void **state)
{
	struct fx *f = *state;
	struct ciov_ctl_handle rq;
	struct ciov_ctl_seg_rep rp;
	struct ciov_ctl_close_req cl;
	struct seg *s;
	uint32_t h;
	uint8_t *p;
	int fd = -1;

	assert_int_equal(seg_attach(f, NULL, 0x100000, 4 * PG, &h), 0);
	/* The tenant may not attach memory itself in native mode. */
	assert_int_equal(seg_attach(f, f->t[0], 0x200000, PG, NULL), -EPERM);
	rq = (struct ciov_ctl_handle){.handle = h};
	assert_int_equal(call(f, f->t[0], CIOV_CTL_SEG_OPEN, &rq, sizeof(rq), &rp, -1, &fd), 0);
	assert_true(fd >= 0);
	assert_int_equal(rp.iova, 0x100000);
	assert_int_equal(rp.length, 4 * PG);
	p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(p != MAP_FAILED);
	memcpy(p + PG + 5, "hello", 5);
	s = seg_of(obj_find(f->ep, CIOV_OBJ_SEG, h));
	assert_memory_equal(s->host + PG + 5, "hello", 5);
	munmap(p, 4 * PG);
	close(fd);
	/* Opened: the manager cannot detach it until the tenant closes. */
	assert_int_equal(handle_op(f, NULL, CIOV_CTL_SEG_DETACH, h), -EBUSY);
	cl = (struct ciov_ctl_close_req){.type = CIOV_OBJ_SEG, .handle = h};
	assert_int_equal(call(f, f->t[0], CIOV_CTL_CLOSE, &cl, sizeof(cl), NULL, -1, NULL), 0);
	assert_int_equal(handle_op(f, NULL, CIOV_CTL_SEG_DETACH, h), 0);
	assert_null(obj_find(f->ep, CIOV_OBJ_SEG, h));
	assert_int_equal(f->ep->usage[CIOV_QUOTA_segments], 0);
}

static void native_tenant_opens_the_managers_mr_but_cannot_register(void **state)
{
	struct fx *f = *state;
	struct ciov_ctl_mr_rep reg, open;
	struct ciov_ctl_handle rq;
	uint32_t pd;

	assert_int_equal(seg_attach(f, NULL, 0x100000, 4 * PG, NULL), 0);
	pd = pd_alloc(f, NULL);
	assert_int_equal(mr_reg(f, NULL, pd, 0x100010, 100, RW, &reg), 0);
	assert_int_equal(mr_reg(f, f->t[0], pd, 0x100010, 100, RW, NULL), -EPERM);
	rq = (struct ciov_ctl_handle){.handle = reg.handle};
	assert_int_equal(call(f, f->t[0], CIOV_CTL_MR_OPEN, &rq, sizeof(rq), &open, -1, NULL), 0);
	assert_memory_equal(&reg, &open, sizeof(reg));
	assert_int_equal(open.pd, pd);
	assert_int_equal(open.iova, 0x100010);
	assert_int_equal(open.length, 100);
	assert_int_equal(open.access, RW);
	assert_int_equal(handle_op(f, f->t[0], CIOV_CTL_MR_DEREG, reg.handle), -EPERM);
	/* Opened by a tenant: busy for the manager. */
	assert_int_equal(handle_op(f, NULL, CIOV_CTL_MR_DEREG, reg.handle), -EBUSY);
}

static void mr_reg_refuses_bad_access_length_and_range(void **state)
{
	struct fx *f = *state;
	struct client *t = f->t[0];
	uint32_t pd = pd_alloc(f, t);

	assert_int_equal(seg_attach(f, t, 0x100000, 4 * PG, NULL), 0);
	/* IBA 10.6.3.1: remote write / atomic need local write. */
	assert_int_equal(mr_reg(f, t, pd, 0x100000, PG, CIOV_ACCESS_REMOTE_WRITE, NULL), -EINVAL);
	assert_int_equal(mr_reg(f, t, pd, 0x100000, PG, CIOV_ACCESS_REMOTE_ATOMIC, NULL), -EINVAL);
	assert_int_equal(mr_reg(f, t, pd, 0x100000, PG, 0x10 | CIOV_ACCESS_LOCAL_WRITE, NULL), -EINVAL);
	assert_int_equal(mr_reg(f, t, pd, 0x100000, 0, 0, NULL), -EINVAL);
	assert_int_equal(mr_reg(f, t, pd, 0x100000, (1ull << 40) + 1, 0, NULL), -EINVAL);
	assert_int_equal(mr_reg(f, t, pd, UINT64_MAX - 10, 100, 0, NULL), -EINVAL);
	/* Not covered: before, after, and straddling the end of the segment. */
	assert_int_equal(mr_reg(f, t, pd, 0xff000, 8, 0, NULL), -EFAULT);
	assert_int_equal(mr_reg(f, t, pd, 0x104000, 8, 0, NULL), -EFAULT);
	assert_int_equal(mr_reg(f, t, pd, 0x103ff0, 0x20, 0, NULL), -EFAULT);
	assert_int_equal(mr_reg(f, t, pd + 1, 0x100000, 8, 0, NULL), -ENOENT);
	/* Read-only and read-write are fine; nothing was charged before. */
	assert_int_equal(f->ep->usage[CIOV_QUOTA_mr_bytes], 0);
	assert_int_equal(mr_reg(f, t, pd, 0x100000, 4 * PG, 0, NULL), 0);
	assert_int_equal(mr_reg(f, t, pd, 0x100001, 7, CIOV_ACCESS_ALL, NULL), 0);
	assert_int_equal(f->ep->usage[CIOV_QUOTA_mr_bytes], 4 * PG + 7);
}

static void mr_spanning_adjacent_segments_holds_each_of_them(void **state)
{
	struct fx *f = *state;
	struct client *t = f->t[0];
	struct ciov_ctl_mr_rep rp;
	uint32_t pd = pd_alloc(f, t), s1, s2, s3;

	assert_int_equal(seg_attach(f, t, 0x100000, PG, &s1), 0);
	assert_int_equal(seg_attach(f, t, 0x101000, 2 * PG, &s2), 0);
	assert_int_equal(seg_attach(f, t, 0x104000, PG, &s3), 0); /* after a hole */
	assert_int_equal(mr_reg(f, t, pd, 0x100ff0, 0x1020, 0, &rp), 0);
	assert_int_equal(mr_obj(f, rp.handle)->nsegs, 2);
	/* Into the hole: refused. */
	assert_int_equal(mr_reg(f, t, pd, 0x100000, 0x4100, 0, NULL), -EFAULT);
	assert_int_equal(handle_op(f, t, CIOV_CTL_SEG_DETACH, s1), -EBUSY);
	assert_int_equal(handle_op(f, t, CIOV_CTL_SEG_DETACH, s2), -EBUSY);
	assert_int_equal(handle_op(f, t, CIOV_CTL_PD_DEALLOC, pd), -EBUSY);
	assert_int_equal(handle_op(f, t, CIOV_CTL_SEG_DETACH, s3), 0);
	assert_int_equal(handle_op(f, t, CIOV_CTL_MR_DEREG, rp.handle), 0);
	assert_int_equal(handle_op(f, t, CIOV_CTL_SEG_DETACH, s1), 0);
	assert_int_equal(handle_op(f, t, CIOV_CTL_SEG_DETACH, s2), 0);
	assert_int_equal(handle_op(f, t, CIOV_CTL_PD_DEALLOC, pd), 0);
	assert_int_equal(f->ep->usage[CIOV_QUOTA_segments], 0);
	assert_int_equal(f->ep->usage[CIOV_QUOTA_mrs], 0);
	assert_int_equal(f->ep->usage[CIOV_QUOTA_mr_bytes], 0);
}

static void mr_on_another_connections_segment_is_EFAULT(void **state)
{
	struct fx *f = *state;
	uint32_t pd = pd_alloc(f, f->t[1]);

	assert_int_equal(seg_attach(f, f->t[0], 0x100000, PG, NULL), 0);
	/* Same endpoint, same I/O space, but not t[1]'s memory: t[0] may go
	 * away with it at any time. */
	assert_int_equal(mr_reg(f, f->t[1], pd, 0x100000, 8, 0, NULL), -EFAULT);
	/* And t[1] cannot overlap it either. */
	assert_int_equal(seg_attach(f, f->t[1], 0x100000, PG, NULL), -EEXIST);
}

static void mr_from_key_matches_only_the_exact_key(void **state)
{
	struct fx *f = *state;
	struct client *t = f->t[0];
	struct ciov_ctl_mr_rep rp;
	uint32_t pd = pd_alloc(f, t);
	struct mr *mr;

	assert_int_equal(seg_attach(f, t, 0x100000, PG, NULL), 0);
	assert_int_equal(mr_reg(f, t, pd, 0x100000, PG, RW, &rp), 0);
	mr = mr_obj(f, rp.handle);
	assert_int_equal(mr_key_index(rp.lkey), pool_index(rp.handle));
	assert_ptr_equal(mr_from_key(f->ep, rp.lkey, MR_LKEY), mr);
	assert_ptr_equal(mr_from_key(f->ep, rp.rkey, MR_RKEY), mr);
	for (uint32_t bit = 1; bit < 0x100; bit <<= 1) /* any other tag */
		assert_null(mr_from_key(f->ep, rp.lkey ^ bit, MR_LKEY));
	assert_null(mr_from_key(f->ep, rp.lkey + 0x100, MR_LKEY)); /* next index */
	assert_null(mr_from_key(f->ep, rp.lkey & 0xff, MR_LKEY)); /* index 0 */
	assert_null(mr_from_key(f->ep, 0xffffff00u | (rp.lkey & 0xff), MR_RKEY));
	assert_null(mr_from_key(f->ep, 0, MR_RKEY));
	assert_int_equal(handle_op(f, t, CIOV_CTL_MR_DEREG, rp.handle), 0);
	assert_null(mr_from_key(f->ep, rp.lkey, MR_LKEY));
	assert_null(mr_from_key(f->ep, rp.rkey, MR_RKEY));
}

static void dereg_then_reuse_key_fails_for_255_reregistrations(void **state)
{
	struct fx *f = *state;
	struct client *t = f->t[0];
	uint32_t pd = pd_alloc(f, t), keys[255];

	assert_int_equal(seg_attach(f, t, 0x100000, PG, NULL), 0);
	for (int i = 0; i < 255; i++) {
		struct ciov_ctl_mr_rep rp;

		assert_int_equal(mr_reg(f, t, pd, 0x100000, PG, 0, &rp), 0);
		keys[i] = rp.lkey;
		/* Every earlier key is dead, whichever slot it named. */
		for (int j = 0; j < i; j++)
			assert_null(mr_from_key(f->ep, keys[j], MR_LKEY));
		assert_non_null(mr_from_key(f->ep, rp.lkey, MR_LKEY));
		assert_int_equal(handle_op(f, t, CIOV_CTL_MR_DEREG, rp.handle), 0);
	}
}

static void mr_check_enforces_bounds_pd_and_access(void **state)
{
	struct fx *f = *state;
	struct client *t = f->t[0];
	struct ciov_ctl_mr_rep rp;
	uint32_t pd = pd_alloc(f, t), pd2 = pd_alloc(f, t);
	struct pd *p = container_of(obj_find(f->ep, CIOV_OBJ_PD, pd), struct pd, obj);
	struct pd *p2 = container_of(obj_find(f->ep, CIOV_OBJ_PD, pd2), struct pd, obj);
	struct mr *mr;
	const unsigned LW = CIOV_ACCESS_LOCAL_WRITE, RR = CIOV_ACCESS_REMOTE_READ;

	assert_int_equal(seg_attach(f, t, 0x100000, 2 * PG, NULL), 0);
	assert_int_equal(mr_reg(f, t, pd, 0x100100, 0x100, LW | RR, &rp), 0);
	mr = mr_obj(f, rp.handle);
	assert_int_equal(mr_check(mr, p, 0x100100, 0x100, LW | RR), 0);
	assert_int_equal(mr_check(mr, p, 0x1001ff, 1, 0), 0);
	assert_int_equal(mr_check(mr, p, 0x100200, 0, 0), 0); /* zero length */
	assert_int_equal(mr_check(mr, p, 0x1000ff, 1, 0), -EFAULT);
	assert_int_equal(mr_check(mr, p, 0x100200, 1, 0), -EFAULT);
	assert_int_equal(mr_check(mr, p, 0x1001ff, 2, 0), -EFAULT);
	assert_int_equal(mr_check(mr, p, 0x100100, 0x101, 0), -EFAULT);
	assert_int_equal(mr_check(mr, p, 0x100180, UINT64_MAX - 0x7f, 0), -EFAULT); /* wraps */
	assert_int_equal(mr_check(mr, p, UINT64_MAX, 2, 0), -EFAULT);
	assert_int_equal(mr_check(mr, p2, 0x100100, 8, 0), -EPERM);
	assert_int_equal(mr_check(mr, p, 0x100100, 8, CIOV_ACCESS_REMOTE_WRITE), -EACCES);
	assert_int_equal(mr_check(mr, p, 0x100100, 8, CIOV_ACCESS_REMOTE_ATOMIC), -EACCES);
}

static void double_dereg_gives_ENOENT(void **state)
{
	struct fx *f = *state;
	struct client *t = f->t[0];
	struct ciov_ctl_mr_rep rp;
	uint32_t pd = pd_alloc(f, t);

	assert_int_equal(seg_attach(f, t, 0x100000, PG, NULL), 0);
	assert_int_equal(mr_reg(f, t, pd, 0x100000, PG, 0, &rp), 0);
	assert_int_equal(handle_op(f, t, CIOV_CTL_MR_DEREG, rp.handle), 0);
	assert_int_equal(handle_op(f, t, CIOV_CTL_MR_DEREG, rp.handle), -ENOENT);
	/* Another connection's MR is not there for t[1] either. */
	assert_int_equal(mr_reg(f, t, pd, 0x100000, PG, 0, &rp), 0);
	assert_int_equal(handle_op(f, f->t[1], CIOV_CTL_MR_DEREG, rp.handle), -ENOENT);
}

static void mr_bytes_quota_gives_EDQUOT_and_dereg_uncharges(void **state)
{
	struct fx *f = *state;
	struct client *t = f->t[0];
	struct ciov_ctl_mr_rep rp;
	uint32_t pd = pd_alloc(f, t);

	f->ep->quota[CIOV_QUOTA_mr_bytes] = 2 * PG;
	assert_int_equal(seg_attach(f, t, 0x100000, 4 * PG, NULL), 0);
	assert_int_equal(mr_reg(f, t, pd, 0x100000, 2 * PG, 0, &rp), 0);
	assert_int_equal(mr_reg(f, t, pd, 0x100000, 1, 0, NULL), -EDQUOT);
	assert_int_equal(f->ep->usage[CIOV_QUOTA_mrs], 1);
	assert_int_equal(handle_op(f, t, CIOV_CTL_MR_DEREG, rp.handle), 0);
	assert_int_equal(f->ep->usage[CIOV_QUOTA_mr_bytes], 0);
	assert_int_equal(mr_reg(f, t, pd, 0x100000, 2 * PG, 0, NULL), 0);
}

static void seg_detach_invalidates_translations_and_counts_iotlb(void **state)
{
	struct fx *f = *state;
	struct client *t = f->t[0];
	struct ciov_ctl_query_ep_rep q;
	struct ciov_ctl_none none = {0};
	struct seg *s;
	uint32_t h;
	void *host;

	assert_int_equal(seg_attach(f, t, 0x100000, 2 * PG, &h), 0);
	s = seg_of(obj_find(f->ep, CIOV_OBJ_SEG, h));
	assert_int_equal(iommu_translate(f->ep->iommu, 0x101000, 16, &host), 0);
	assert_ptr_equal(host, s->host + PG);
	assert_int_equal(iommu_translate(f->ep->iommu, 0x101010, 16, &host), 0);
	assert_int_equal(call(f, t, CIOV_CTL_QUERY_EP, &none, sizeof(none), &q, -1, NULL), 0);
	assert_int_equal(q.iotlb_misses, 1);
	assert_int_equal(q.iotlb_hits, 1);
	assert_int_equal(handle_op(f, t, CIOV_CTL_SEG_DETACH, h), 0);
	assert_int_equal(iommu_translate(f->ep->iommu, 0x101000, 16, &host), -EFAULT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define N(fn) cmocka_unit_test_setup_teardown(fn, setup_native, teardown)
#define P(fn) cmocka_unit_test_setup_teardown(fn, setup_passthrough, teardown)
		N(native_tenant_opens_the_managers_segment_and_shares_its_memory),
		N(native_tenant_opens_the_managers_mr_but_cannot_register),
		P(mr_reg_refuses_bad_access_length_and_range),
		P(mr_spanning_adjacent_segments_holds_each_of_them),
		P(mr_on_another_connections_segment_is_EFAULT),
		P(mr_from_key_matches_only_the_exact_key),
		P(dereg_then_reuse_key_fails_for_255_reregistrations),
		P(mr_check_enforces_bounds_pd_and_access),
		P(double_dereg_gives_ENOENT),
		P(mr_bytes_quota_gives_EDQUOT_and_dereg_uncharges),
		P(seg_detach_invalidates_translations_and_counts_iotlb),
#undef N
#undef P
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
