/* SPDX-License-Identifier: MIT */
/*
 * Native mode with memory, end to end: the manager attaches a memfd as a
 * segment and registers an MR over it; the tenant opens both, sees the
 * same bytes and the same keys. Skips while the memory handlers are stubs.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "prov_util.h"

#define SEG_IOVA 0x100000ull
#define SEG_LEN 65536

/* Attaches a fresh sealed memfd holding "hello" at SEG_IOVA of vm1. */
static uint32_t attach_seg(struct pt *p)
{
	int fd = pt_memfd(SEG_LEN, 1);
	struct json_object *r;
	uint32_t h;

	assert_int_equal(pwrite(fd, "hello", 5, 0), 5);
	r = th_admin_fds(&p->d, &fd, 1,
			 "{\"cmd\":\"seg.attach\",\"endpoint\":\"vm1\",\"iova\":\"0x%llx\",\"length\":%d,\"fds\":1}",
			 SEG_IOVA, SEG_LEN);
	close(fd); /* ciovd keeps its own */
	if (th_errno(r) == EOPNOTSUPP) {
		json_object_put(r);
		PT_SKIP("seg.attach not implemented yet");
	}
	if (!th_ok(r))
		fail_msg("seg.attach: %s", json_object_to_json_string(r));
	assert_int_equal(th_get_int(r, "iova", NULL), SEG_IOVA);
	assert_int_equal(th_get_int(r, "length", NULL), SEG_LEN);
	assert_int_equal(th_get_int(r, "offset", NULL), 0);
	h = (uint32_t)th_get_int(r, "handle", NULL);
	json_object_put(r);
	assert_true(h > 0);
	return h;
}

static void access_is(struct json_object *r, const char *want)
{
	struct json_object *a;

	assert_true(json_object_object_get_ex(r, "access", &a));
	assert_string_equal(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN), want);
}

static void provisioned_segment_and_mr_are_opened_by_the_tenant(void **state)
{
	struct pt *p = *state;
	struct ciov_seg *seg;
	struct ciov_pd *pd;
	struct ciov_mr *mr;
	struct json_object *r;
	uint32_t hs, hp, hm, lkey, rkey;

	hs = attach_seg(p);
	hp = pt_prov_handle(p, "{\"cmd\":\"pd.alloc\",\"endpoint\":\"vm1\"}");
	r = pt_prov(p, "{\"cmd\":\"mr.reg\",\"endpoint\":\"vm1\",\"pd\":%u,\"iova\":\"0x%llx\",\"length\":8192,\"access\":[\"local_write\",\"remote_read\"]}",
		    hp, SEG_IOVA);
	hm = (uint32_t)th_get_int(r, "handle", NULL);
	lkey = (uint32_t)th_get_int(r, "lkey", NULL);
	rkey = (uint32_t)th_get_int(r, "rkey", NULL);
	assert_int_equal(th_get_int(r, "pd", NULL), hp);
	assert_int_equal(th_get_int(r, "iova", NULL), SEG_IOVA);
	assert_int_equal(th_get_int(r, "length", NULL), 8192);
	access_is(r, "[\"local_write\",\"remote_read\"]");
	json_object_put(r);
	assert_int_equal(pt_usage(p, "vm1", "segments"), 1);
	assert_int_equal(pt_usage(p, "vm1", "mrs"), 1);
	assert_int_equal(pt_usage(p, "vm1", "mr_bytes"), 8192);

	PT_NEED(ciov_open_seg);
	PT_NEED(ciov_open_mr);
	pt_tenant(p, "vm1");
	assert_int_equal(ciov_open_seg(p->ep, hs, &seg), 0);
	assert_int_equal(seg->iova, SEG_IOVA);
	assert_memory_equal(seg->addr, "hello", 5);
	assert_int_equal(ciov_open_pd(p->ep, hp, &pd), 0);
	assert_int_equal(ciov_open_mr(pd, hm, &mr), 0);
	assert_int_equal(mr->lkey, lkey);
	assert_int_equal(mr->rkey, rkey);

	pt_expect(p, EBUSY, "a tenant has it open", "{\"cmd\":\"mr.dereg\",\"endpoint\":\"vm1\",\"handle\":%u}", hm);
	assert_int_equal(ciov_dereg_mr(mr), 0); /* releases */
	json_object_put(pt_prov(p, "{\"cmd\":\"mr.dereg\",\"endpoint\":\"vm1\",\"handle\":%u}", hm));
	pt_expect(p, EBUSY, NULL, "{\"cmd\":\"seg.detach\",\"endpoint\":\"vm1\",\"handle\":%u}", hs);
	assert_int_equal(ciov_detach_seg(seg), 0);
	json_object_put(pt_prov(p, "{\"cmd\":\"seg.detach\",\"endpoint\":\"vm1\",\"handle\":%u}", hs));
	assert_int_equal(ciov_dealloc_pd(pd), 0);
	json_object_put(pt_prov(p, "{\"cmd\":\"pd.dealloc\",\"endpoint\":\"vm1\",\"handle\":%u}", hp));
	assert_int_equal(pt_usage(p, "vm1", "segments"), 0);
	assert_int_equal(pt_usage(p, "vm1", "mrs"), 0);
	assert_int_equal(pt_usage(p, "vm1", "mr_bytes"), 0);
}

static void mr_access_given_as_a_number_reads_back_as_names(void **state)
{
	struct pt *p = *state;
	struct json_object *r;
	uint32_t hp;

	attach_seg(p);
	hp = pt_prov_handle(p, "{\"cmd\":\"pd.alloc\",\"endpoint\":\"vm1\"}");
	r = pt_prov(p, "{\"cmd\":\"mr.reg\",\"endpoint\":\"vm1\",\"pd\":%u,\"iova\":%llu,\"length\":4096,\"access\":%d}",
		    hp, SEG_IOVA, CIOV_ACCESS_LOCAL_WRITE | CIOV_ACCESS_REMOTE_WRITE | CIOV_ACCESS_REMOTE_ATOMIC);
	access_is(r, "[\"local_write\",\"remote_write\",\"remote_atomic\"]");
	json_object_put(r);
	r = pt_prov(p, "{\"cmd\":\"mr.reg\",\"endpoint\":\"vm1\",\"pd\":%u,\"iova\":%llu,\"length\":4096}",
		    hp, SEG_IOVA);
	access_is(r, "[]");
	json_object_put(r);
}

static void mr_reg_bad_flows_say_what_to_fix(void **state)
{
	struct pt *p = *state;
	uint32_t hp;

	attach_seg(p);
	hp = pt_prov_handle(p, "{\"cmd\":\"pd.alloc\",\"endpoint\":\"vm1\"}");
	/* outside every segment */
	pt_expect(p, EFAULT, "seg.attach",
		  "{\"cmd\":\"mr.reg\",\"endpoint\":\"vm1\",\"pd\":%u,\"iova\":%llu,\"length\":4096}", hp,
		  SEG_IOVA + SEG_LEN);
	/* IBA 10.6.3.1: remote write needs local write */
	pt_expect(p, EINVAL, "IBA 10.6.3.1",
		  "{\"cmd\":\"mr.reg\",\"endpoint\":\"vm1\",\"pd\":%u,\"iova\":%llu,\"length\":4096,\"access\":[\"remote_write\"]}",
		  hp, SEG_IOVA);
	pt_expect(p, ENOENT, "no such PD",
		  "{\"cmd\":\"mr.reg\",\"endpoint\":\"vm1\",\"pd\":%u,\"iova\":%llu,\"length\":4096}", hp + 1,
		  SEG_IOVA);
	assert_int_equal(pt_usage(p, "vm1", "mrs"), 0);
}

static void seg_attach_of_an_unsealed_memfd_is_einval(void **state)
{
	struct pt *p = *state;
	int fd = pt_memfd(SEG_LEN, 0);
	struct json_object *r;

	r = th_admin_fds(&p->d, &fd, 1,
			 "{\"cmd\":\"seg.attach\",\"endpoint\":\"vm1\",\"iova\":0,\"length\":%d,\"fds\":1}", SEG_LEN);
	close(fd);
	if (th_errno(r) == EOPNOTSUPP) {
		json_object_put(r);
		PT_SKIP("seg.attach not implemented yet");
	}
	assert_int_equal(th_errno(r), EINVAL);
	assert_non_null(strstr(json_object_to_json_string(r), "F_SEAL_SHRINK"));
	json_object_put(r);
	assert_int_equal(pt_usage(p, "vm1", "segments"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		PT_TEST(provisioned_segment_and_mr_are_opened_by_the_tenant),
		PT_TEST(mr_access_given_as_a_number_reads_back_as_names),
		PT_TEST(mr_reg_bad_flows_say_what_to_fix),
		PT_TEST(seg_attach_of_an_unsealed_memfd_is_einval),
	};

	return PT_RUN(tests);
}
