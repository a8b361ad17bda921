/* SPDX-License-Identifier: MIT */
/*
 * Memory registration end to end: a real ciovd, libciov, real memory.
 * Endpoints: "a" and "b" (passthrough), "n" (native), "q" (passthrough,
 * mr_bytes quota 64 KiB). Each test starts its own ciovd and fails if it
 * does not exit 0 (a sanitizer report, a leak).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <ciov/ciov.h>

#include "harness.h"

#define PG 4096ul
#define LW CIOV_ACCESS_LOCAL_WRITE

struct fx {
	struct th_daemon d;
	struct ciov_adapter *ad;
	struct ciov_endpoint *ep; /* "a" */
	struct ciov_pd *pd;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	static const char *const eps[] = {
		"\"name\":\"a\",\"mode\":\"passthrough\"",
		"\"name\":\"b\",\"mode\":\"passthrough\"",
		"\"name\":\"n\",\"mode\":\"native\"",
		"\"name\":\"q\",\"mode\":\"passthrough\",\"quota\":{\"mr_bytes\":65536}",
	};

	if (!f || th_daemon_start(&f->d))
		return -1;
	for (size_t i = 0; i < sizeof(eps) / sizeof(eps[0]); i++) {
		struct json_object *r = th_admin_ok(&f->d, "{\"cmd\":\"endpoint.add\",%s}", eps[i]);

		if (!r)
			return -1;
		json_object_put(r);
	}
	if (ciov_adapter_open(NULL, &f->ad) || ciov_open_endpoint(f->ad, "a", &f->ep) ||
	    ciov_alloc_pd(f->ep, &f->pd))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	int status;

	ciov_close_endpoint(f->ep);
	ciov_adapter_close(f->ad);
	status = th_daemon_stop(&f->d);
	th_daemon_cleanup(&f->d);
	free(f);
	if (status != 0)
		fprintf(stderr, "ciovd exited with status %d\n", status);
	return status == 0 ? 0 : -1;
}

static uint64_t usage(struct ciov_endpoint *ep, enum ciov_quota q)
{
	struct ciov_endpoint_attr a;

	assert_int_equal(ciov_query_endpoint(ep, &a), 0);
	return a.usage[q];
}

/* The /proc/self/maps line of ADDR's mapping, into LINE. */
static void maps_line(const void *addr, char *line, size_t len)
{
	FILE *f = fopen("/proc/self/maps", "r");
	uintptr_t a = (uintptr_t)addr;

	assert_non_null(f);
	line[0] = '\0';
	while (fgets(line, (int)len, f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && lo <= a && a < hi)
			break;
		line[0] = '\0';
	}
	fclose(f);
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 31 + seed);
}

static void assert_filled(const uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (uint8_t)(i * 31 + seed))
			fail_msg("byte %zu: %#x, want %#x", i, p[i], (uint8_t)(i * 31 + seed));
}

static int sealed_memfd(size_t size)
{
	int fd = memfd_create("user", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
	return fd;
}

static void *anon(size_t pages)
{
	void *p = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	return p;
}

/* ------------------------------------------------------------------------ */
/* ciov_reg_mr on ordinary memory. */

static void reg_mr_on_malloc_memory_keeps_contents_and_address(void **state)
{
	struct fx *f = *state;
	uint8_t *buf = malloc(10000);
	char line[512];
	struct ciov_mr *mr;

	fill(buf, 10000, 1);
	assert_int_equal(ciov_reg_mr(f->pd, buf + 3, 9000, LW | CIOV_ACCESS_REMOTE_WRITE, &mr), 0);
	assert_ptr_equal(mr->addr, buf + 3);
	assert_int_equal(mr->iova, (uintptr_t)(buf + 3));
	assert_int_equal(mr->length, 9000);
	assert_int_equal(mr->access, LW | CIOV_ACCESS_REMOTE_WRITE);
	assert_int_not_equal(mr->lkey, 0);
	assert_int_equal(mr->lkey, mr->rkey);
	/* Same address, same bytes, now a shared memfd mapping. */
	assert_filled(buf, 10000, 1);
	maps_line(buf + 3, line, sizeof(line));
	assert_non_null(strstr(line, "/memfd:ciov-mr"));
	fill(buf, 10000, 2);
	assert_filled(buf, 10000, 2);
	/* malloc keeps working around it. */
	void *other = malloc(50000);

	assert_non_null(other);
	memset(other, 0x5a, 50000);
	free(other);
	assert_int_equal(usage(f->ep, CIOV_QUOTA_mr_bytes), 9000);
	assert_int_equal(ciov_dereg_mr(mr), 0);
	assert_int_equal(usage(f->ep, CIOV_QUOTA_mr_bytes), 0);
	assert_filled(buf, 10000, 2);
	free(buf);
}

static void reg_mr_again_on_the_same_buffer_reuses_its_segment(void **state)
{
	struct fx *f = *state;
	uint8_t *buf = anon(4);
	struct ciov_mr *m1, *m2;

	assert_int_equal(ciov_reg_mr(f->pd, buf, 4 * PG, LW, &m1), 0);
	assert_int_equal(usage(f->ep, CIOV_QUOTA_segments), 1);
	assert_int_equal(ciov_reg_mr(f->pd, buf + 100, PG, 0, &m2), 0);
	assert_int_equal(usage(f->ep, CIOV_QUOTA_segments), 1);
	assert_int_equal(usage(f->ep, CIOV_QUOTA_mrs), 2);
	assert_int_not_equal(m1->lkey, m2->lkey);
	assert_int_equal(ciov_dereg_mr(m1), 0);
	assert_int_equal(ciov_dereg_mr(m2), 0);
	/* Deregistration leaves the segment attached. */
	assert_int_equal(usage(f->ep, CIOV_QUOTA_segments), 1);
	munmap(buf, 4 * PG);
}

static void reg_mr_partly_registered_backs_only_the_gaps(void **state)
{
	struct fx *f = *state;
	uint8_t *buf = anon(8);
	struct ciov_mr *a, *b, *all;

	fill(buf, 8 * PG, 3);
	assert_int_equal(ciov_reg_mr(f->pd, buf + PG, PG, 0, &a), 0);
	assert_int_equal(ciov_reg_mr(f->pd, buf + 4 * PG + 10, 10, 0, &b), 0);
	assert_int_equal(usage(f->ep, CIOV_QUOTA_segments), 2);
	/* Pages 0, 2-3 and 5-7 are new: three more segments. */
	assert_int_equal(ciov_reg_mr(f->pd, buf, 8 * PG, LW, &all), 0);
	assert_int_equal(usage(f->ep, CIOV_QUOTA_segments), 5);
	assert_filled(buf, 8 * PG, 3);
	assert_ptr_equal(all->addr, buf);
	munmap(buf, 8 * PG);
}

static void reg_mr_refuses_remote_write_without_local_write(void **state)
{
	struct fx *f = *state;
	uint8_t *buf = anon(1);
	struct ciov_mr *mr = (void *)0x1;
	char line[512];

	/* IBA 10.6.3.1 */
	assert_int_equal(ciov_reg_mr(f->pd, buf, PG, CIOV_ACCESS_REMOTE_WRITE, &mr), -EINVAL);
	assert_int_equal(ciov_reg_mr(f->pd, buf, PG, CIOV_ACCESS_REMOTE_ATOMIC | CIOV_ACCESS_REMOTE_READ,
				     &mr), -EINVAL);
	assert_int_equal(ciov_reg_mr(f->pd, buf, PG, 0x10, &mr), -EINVAL);
	assert_ptr_equal(mr, (void *)0x1); /* untouched on failure */
	/* Refused before anything happened to the memory. */
	assert_int_equal(usage(f->ep, CIOV_QUOTA_segments), 0);
	maps_line(buf, line, sizeof(line));
	assert_null(strstr(line, "memfd"));
	munmap(buf, PG);
}

static void reg_mr_refuses_null_address_and_zero_length(void **state)
{
	struct fx *f = *state;
	uint8_t *buf = anon(1);
	struct ciov_mr *mr;

	assert_int_equal(ciov_reg_mr(f->pd, NULL, PG, 0, &mr), -EINVAL);
	assert_int_equal(ciov_reg_mr(f->pd, buf, 0, 0, &mr), -EINVAL);
	assert_int_equal(ciov_reg_mr(f->pd, (void *)(UINTPTR_MAX - 10), 100, 0, &mr), -EINVAL);
	assert_int_equal(ciov_reg_mr(NULL, buf, PG, 0, &mr), -EINVAL);
	munmap(buf, PG);
}

static void reg_mr_on_unmapped_or_inaccessible_memory_is_EFAULT(void **state)
{
	struct fx *f = *state;
	uint8_t *buf = anon(3);
	struct ciov_mr *mr;

	munmap(buf + PG, PG);
	assert_int_equal(ciov_reg_mr(f->pd, buf, 3 * PG, 0, &mr), -EFAULT);
	assert_int_equal(mprotect(buf + 2 * PG, PG, PROT_NONE), 0);
	assert_int_equal(ciov_reg_mr(f->pd, buf + 2 * PG, 8, 0, &mr), -EFAULT);
	/* The readable page alone is fine. */
	assert_int_equal(ciov_reg_mr(f->pd, buf, PG, 0, &mr), 0);
	munmap(buf, PG);
	munmap(buf + 2 * PG, PG);
}

static void reg_mr_on_read_only_memory_keeps_it_read_only(void **state)
{
	struct fx *f = *state;
	uint8_t *buf = anon(2);
	struct ciov_mr *mr;
	char line[512];

	fill(buf, 2 * PG, 4);
	assert_int_equal(mprotect(buf, 2 * PG, PROT_READ), 0);
	assert_int_equal(ciov_reg_mr(f->pd, buf, 2 * PG, CIOV_ACCESS_REMOTE_READ, &mr), 0);
	assert_filled(buf, 2 * PG, 4);
	maps_line(buf, line, sizeof(line));
	assert_non_null(strstr(line, " r--s "));
	munmap(buf, 2 * PG);
}

static void reg_mr_on_a_sealed_memfd_mapping_attaches_it_without_copy(void **state)
{
	struct fx *f = *state;
	int fd = sealed_memfd(4 * PG);
	uint8_t *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	struct ciov_mr *mr;
	char line[512];

	assert_true(p != MAP_FAILED);
	assert_int_equal(ciov_reg_mr(f->pd, p + PG, 2 * PG, LW, &mr), 0);
	/* Still the user's file: a write through the fd shows at p. */
	assert_int_equal(pwrite(fd, "xyz", 3, PG + 7), 3);
	assert_memory_equal(p + PG + 7, "xyz", 3);
	maps_line(p + PG, line, sizeof(line));
	assert_non_null(strstr(line, "/memfd:user"));
	assert_int_equal(usage(f->ep, CIOV_QUOTA_segments), 1);
	munmap(p, 4 * PG);
	close(fd);
}

static void reg_mr_on_shared_anonymous_memory_is_EINVAL(void **state)
{
	struct fx *f = *state;
	uint8_t *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct ciov_mr *mr;

	assert_true(p != MAP_FAILED);
	/* No fd to attach, and copying would break its sharing. */
	assert_int_equal(ciov_reg_mr(f->pd, p, PG, 0, &mr), -EINVAL);
	munmap(p, PG);
}

static void same_buffer_in_two_endpoints_shares_one_memfd(void **state)
{
	struct fx *f = *state;
	struct ciov_endpoint *b;
	struct ciov_pd *pdb;
	struct ciov_mr *ma, *mb;
	uint8_t *buf = anon(2);
	char l1[512], l2[512];

	fill(buf, 2 * PG, 5);
	assert_int_equal(ciov_reg_mr(f->pd, buf, 2 * PG, LW, &ma), 0);
	maps_line(buf, l1, sizeof(l1));
	assert_int_equal(ciov_open_endpoint(f->ad, "b", &b), 0);
	assert_int_equal(ciov_alloc_pd(b, &pdb), 0);
	assert_int_equal(ciov_reg_mr(pdb, buf, 2 * PG, LW, &mb), 0);
	maps_line(buf, l2, sizeof(l2));
	assert_string_equal(l1, l2); /* not re-backed a second time */
	assert_filled(buf, 2 * PG, 5);
	ciov_close_endpoint(b);
	munmap(buf, 2 * PG);
}

static void closing_the_endpoint_leaves_registered_memory_usable(void **state)
{
	struct fx *f = *state;
	uint8_t *buf = malloc(3 * PG);
	struct ciov_mr *mr;

	fill(buf, 3 * PG, 6);
	assert_int_equal(ciov_reg_mr(f->pd, buf, 3 * PG, LW, &mr), 0);
	ciov_close_endpoint(f->ep); /* MR and PD still registered */
	assert_filled(buf, 3 * PG, 6);
	fill(buf, 3 * PG, 7);
	/* A new endpoint registers the same memory again. */
	assert_int_equal(ciov_open_endpoint(f->ad, "a", &f->ep), 0);
	assert_int_equal(ciov_alloc_pd(f->ep, &f->pd), 0);
	assert_int_equal(ciov_reg_mr(f->pd, buf, 3 * PG, LW, &mr), 0);
	assert_filled(buf, 3 * PG, 7);
	free(buf);
}

/* ------------------------------------------------------------------------ */
/* Explicit segments: what ciovd refuses. */

static void unsealed_memfd_is_refused(void **state)
{
	struct fx *f = *state;
	int fd = memfd_create("x", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	struct ciov_seg *s;

	assert_int_equal(ftruncate(fd, PG), 0);
	assert_int_equal(ciov_attach_seg(f->ep, fd, 0, PG, 0x100000, &s), -EINVAL);
	/* Sealed against growing only: still refused. */
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW), 0);
	assert_int_equal(ciov_attach_seg(f->ep, fd, 0, PG, 0x100000, &s), -EINVAL);
	close(fd);
	/* Sealed against writes: ciovd could not write into it. */
	fd = memfd_create("w", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	assert_int_equal(ftruncate(fd, PG), 0);
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_WRITE), 0);
	assert_int_equal(ciov_attach_seg(f->ep, fd, 0, PG, 0x100000, &s), -EINVAL);
	close(fd);
	/* A memfd created without MFD_ALLOW_SEALING cannot be sealed. */
	fd = memfd_create("y", MFD_CLOEXEC);
	assert_int_equal(ftruncate(fd, PG), 0);
	assert_int_equal(ciov_attach_seg(f->ep, fd, 0, PG, 0x100000, &s), -EINVAL);
	close(fd);
}

static void fd_that_is_not_a_memfd_is_refused(void **state)
{
	struct fx *f = *state;
	struct ciov_seg *s;
	char path[] = "/tmp/ciov-mem-XXXXXX";
	int pfd[2], fd;

	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(ciov_attach_seg(f->ep, pfd[0], 0, PG, 0x100000, &s), -EINVAL);
	close(pfd[0]);
	close(pfd[1]);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(ftruncate(fd, PG), 0);
	assert_int_equal(ciov_attach_seg(f->ep, fd, 0, PG, 0x100000, &s), -EINVAL);
	close(fd);
	assert_int_equal(usage(f->ep, CIOV_QUOTA_segments), 0);
}

static void range_beyond_file_size_is_refused(void **state)
{
	struct fx *f = *state;
	int fd = sealed_memfd(4 * PG);
	struct ciov_seg *s;

	assert_int_equal(ciov_attach_seg(f->ep, fd, 0, 5 * PG, 0x100000, &s), -EINVAL);
	assert_int_equal(ciov_attach_seg(f->ep, fd, PG, 4 * PG, 0x100000, &s), -EINVAL);
	assert_int_equal(ciov_attach_seg(f->ep, fd, 4 * PG, PG, 0x100000, &s), -EINVAL);
	assert_int_equal(ciov_attach_seg(f->ep, fd, UINT64_MAX - PG + 1, 2 * PG, 0x100000, &s),
			 -EINVAL);
	assert_int_equal(ciov_attach_seg(f->ep, fd, PG, 3 * PG, 0x100000, &s), 0);
	assert_int_equal(s->iova, 0x100000);
	assert_int_equal(s->length, 3 * PG);
	assert_int_equal(ciov_detach_seg(s), 0);
	close(fd);
}

static void unaligned_zero_or_wrapping_segment_is_refused(void **state)
{
	struct fx *f = *state;
	int fd = sealed_memfd(4 * PG);
	struct ciov_seg *s;

	assert_int_equal(ciov_attach_seg(f->ep, fd, 0, PG, 0x100001, &s), -EINVAL);
	assert_int_equal(ciov_attach_seg(f->ep, fd, 1, PG, 0x100000, &s), -EINVAL);
	assert_int_equal(ciov_attach_seg(f->ep, fd, 0, PG + 1, 0x100000, &s), -EINVAL);
	assert_int_equal(ciov_attach_seg(f->ep, fd, 0, 0, 0x100000, &s), -EINVAL);
	assert_int_equal(ciov_attach_seg(f->ep, fd, 0, 2 * PG, UINT64_MAX - PG + 1, &s), -EINVAL);
	/* The very top page of the I/O space is fine. */
	assert_int_equal(ciov_attach_seg(f->ep, fd, 0, PG, UINT64_MAX - PG + 1, &s), 0);
	assert_int_equal(ciov_detach_seg(s), 0);
	assert_int_equal(usage(f->ep, CIOV_QUOTA_segments), 0);
	close(fd);
}

static void overlapping_segment_is_EEXIST(void **state)
{
	struct fx *f = *state;
	int fd = sealed_memfd(4 * PG);
	struct ciov_seg *s1, *s2;

	assert_int_equal(ciov_attach_seg(f->ep, fd, 0, 2 * PG, 0x100000, &s1), 0);
	assert_int_equal(ciov_attach_seg(f->ep, fd, 0, PG, 0x101000, &s2), -EEXIST);
	assert_int_equal(ciov_attach_seg(f->ep, fd, 0, 2 * PG, 0xff000, &s2), -EEXIST);
	assert_int_equal(ciov_attach_seg(f->ep, fd, 0, 4 * PG, 0xfe000, &s2), -EEXIST);
	/* Adjacent is fine. */
	assert_int_equal(ciov_attach_seg(f->ep, fd, 2 * PG, 2 * PG, 0x102000, &s2), 0);
	assert_int_equal(usage(f->ep, CIOV_QUOTA_segments), 2);
	close(fd);
}

static void segment_truncate_attempt_fails_and_daemon_survives(void **state)
{
	struct fx *f = *state;
	int fd = sealed_memfd(4 * PG);
	uint8_t *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	struct ciov_seg *s;
	struct ciov_mr *mr;

	assert_true(p != MAP_FAILED);
	assert_int_equal(ciov_attach_seg(f->ep, fd, 0, 4 * PG, (uintptr_t)p, &s), 0);
	assert_int_equal(ciov_reg_mr(f->pd, p, 4 * PG, LW, &mr), 0);
	/* The seal: the kernel refuses to shrink what ciovd maps. */
	assert_int_equal(ftruncate(fd, 0), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(ftruncate(fd, PG), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), -1); /* mapped writable */
	/* Growing is harmless and allowed; ciovd keeps working. */
	assert_int_equal(ftruncate(fd, 8 * PG), 0);
	assert_int_equal(usage(f->ep, CIOV_QUOTA_mrs), 1);
	assert_int_equal(ciov_dereg_mr(mr), 0);
	assert_int_equal(ciov_detach_seg(s), 0);
	munmap(p, 4 * PG);
	close(fd);
}

static void detach_seg_with_mr_gives_EBUSY(void **state)
{
	struct fx *f = *state;
	int fd = sealed_memfd(PG);
	struct ciov_seg *s;
	struct ciov_mr *mr;
	uint8_t *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	assert_int_equal(ciov_attach_seg(f->ep, fd, 0, PG, (uintptr_t)p, &s), 0);
	assert_int_equal(ciov_reg_mr(f->pd, p + 8, 8, 0, &mr), 0);
	assert_int_equal(ciov_detach_seg(s), -EBUSY);
	assert_int_equal(ciov_dereg_mr(mr), 0);
	assert_int_equal(ciov_detach_seg(s), 0);
	munmap(p, PG);
	close(fd);
}

/* ------------------------------------------------------------------------ */
/* MRs: lifetimes, quotas, isolation, modes. */

static void dealloc_pd_with_mr_gives_EBUSY(void **state)
{
	struct fx *f = *state;
	uint8_t *buf = anon(1);
	struct ciov_mr *mr;

	assert_int_equal(ciov_reg_mr(f->pd, buf, PG, 0, &mr), 0);
	assert_int_equal(ciov_dealloc_pd(f->pd), -EBUSY);
	assert_int_equal(ciov_dereg_mr(mr), 0);
	assert_int_equal(ciov_dealloc_pd(f->pd), 0);
	f->pd = NULL;
	munmap(buf, PG);
}

static void dereg_then_reregister_gives_a_new_key(void **state)
{
	struct fx *f = *state;
	uint8_t *buf = anon(1);
	uint32_t seen[64];

	/* The pool hands slots round-robin, so within 64 registrations the
	 * same slot comes back; its key must differ every time. */
	for (int i = 0; i < 64; i++) {
		struct ciov_mr *mr;

		assert_int_equal(ciov_reg_mr(f->pd, buf, PG, 0, &mr), 0);
		seen[i] = mr->lkey;
		for (int j = 0; j < i; j++)
			assert_int_not_equal(seen[j], mr->lkey);
		assert_int_equal(ciov_dereg_mr(mr), 0);
	}
	munmap(buf, PG);
}

static void mr_bytes_quota_gives_EDQUOT(void **state)
{
	struct fx *f = *state;
	struct ciov_endpoint *q;
	struct ciov_pd *pd;
	struct ciov_mr *m1, *m2;
	uint8_t *buf = anon(17);

	assert_int_equal(ciov_open_endpoint(f->ad, "q", &q), 0);
	assert_int_equal(ciov_alloc_pd(q, &pd), 0);
	assert_int_equal(ciov_reg_mr(pd, buf, 16 * PG, 0, &m1), 0);
	assert_int_equal(ciov_reg_mr(pd, buf + 16 * PG, 1, 0, &m2), -EDQUOT);
	assert_int_equal(ciov_dereg_mr(m1), 0);
	assert_int_equal(ciov_reg_mr(pd, buf + 16 * PG, 1, 0, &m2), 0);
	assert_int_equal(usage(q, CIOV_QUOTA_mr_bytes), 1);
	ciov_close_endpoint(q);
	munmap(buf, 17 * PG);
}

static void mr_handle_of_other_endpoint_is_ENOENT(void **state)
{
	struct fx *f = *state;
	struct ciov_endpoint *b;
	struct ciov_pd *pdb, fake;
	struct ciov_mr *mr, *x;
	uint8_t *buf = anon(1);

	assert_int_equal(ciov_reg_mr(f->pd, buf, PG, 0, &mr), 0);
	assert_int_equal(ciov_open_endpoint(f->ad, "b", &b), 0);
	/* b has no PD: a's PD handle means nothing there. */
	fake = (struct ciov_pd){.ep = b, .handle = f->pd->handle};
	assert_int_equal(ciov_reg_mr(&fake, buf, PG, 0, &x), -ENOENT);
	assert_int_equal(ciov_alloc_pd(b, &pdb), 0);
	assert_int_equal(ciov_open_mr(pdb, mr->handle, &x), -ENOENT);
	ciov_close_endpoint(b);
	munmap(buf, PG);
}

static void native_tenant_cannot_reg_mr_EPERM(void **state)
{
	struct fx *f = *state;
	struct ciov_endpoint *n;
	struct ciov_pd fake, *pd;
	struct ciov_seg *s;
	struct ciov_mr *mr;
	uint8_t *buf = anon(1);
	int fd = sealed_memfd(PG);

	assert_int_equal(ciov_open_endpoint(f->ad, "n", &n), 0);
	assert_int_equal(ciov_alloc_pd(n, &pd), -EPERM);
	fake = (struct ciov_pd){.ep = n, .handle = 1};
	assert_int_equal(ciov_reg_mr(&fake, buf, PG, 0, &mr), -EPERM);
	/* ciovd itself refuses, whatever the library does. */
	assert_int_equal(ciov_attach_seg(n, fd, 0, PG, 0x100000, &s), -EPERM);
	assert_int_equal(ciov_open_seg(n, 1, &s), -ENOENT);
	ciov_close_endpoint(n);
	close(fd);
	munmap(buf, PG);
}

static void native_tenant_opens_provisioned_seg_and_mr_and_sees_the_memory(void **state)
{
	struct fx *f = *state;
	struct json_object *r;
	struct ciov_endpoint *n;
	struct ciov_seg *seg;
	struct ciov_pd *pd;
	struct ciov_mr *mr;
	int fd = sealed_memfd(4 * PG);
	long long hseg, hpd, hmr;
	uint8_t *mine = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	/* The manager (the VMM) attaches guest memory at I/O address 1 MiB
	 * and registers part of it. */
	r = th_admin_fds(&f->d, &fd, 1,
			 "{\"cmd\":\"seg.attach\",\"endpoint\":\"n\",\"iova\":1048576,"
			 "\"length\":%lu,\"offset\":0,\"fds\":1}", 4 * PG);
	if (!th_ok(r) && (th_errno(r) == EOPNOTSUPP || th_errno(r) == 0)) {
		json_object_put(r);
		skip(); /* provisioning commands not in this ciovd yet */
	}
	assert_true(th_ok(r));
	hseg = th_get_int(r, "handle", NULL);
	json_object_put(r);
	r = th_admin_ok(&f->d, "{\"cmd\":\"pd.alloc\",\"endpoint\":\"n\"}");
	assert_non_null(r);
	hpd = th_get_int(r, "handle", NULL);
	json_object_put(r);
	r = th_admin_ok(&f->d, "{\"cmd\":\"mr.reg\",\"endpoint\":\"n\",\"pd\":%lld,"
			       "\"access\":[\"local_write\",\"remote_read\"],"
			       "\"iova\":%lu,\"length\":100}", hpd, 1048576 + PG + 16);
	assert_non_null(r);
	hmr = th_get_int(r, "handle", NULL);
	json_object_put(r);
	/* The tenant attaches to all three and sees the same bytes. */
	assert_int_equal(ciov_open_endpoint(f->ad, "n", &n), 0);
	assert_int_equal(ciov_open_seg(n, (uint32_t)hseg, &seg), 0);
	assert_int_equal(seg->iova, 1048576);
	assert_int_equal(seg->length, 4 * PG);
	assert_int_equal(ciov_open_pd(n, (uint32_t)hpd, &pd), 0);
	assert_int_equal(ciov_open_mr(pd, (uint32_t)hmr, &mr), 0);
	assert_int_equal(mr->iova, 1048576 + PG + 16);
	assert_int_equal(mr->length, 100);
	assert_int_equal(mr->access, LW | CIOV_ACCESS_REMOTE_READ);
	assert_ptr_equal(mr->addr, (uint8_t *)seg->addr + PG + 16);
	memcpy(mine + PG + 16, "guest", 5);
	assert_memory_equal(mr->addr, "guest", 5);
	/* Opened, not owned: the manager cannot take them away now. */
	r = th_admin(&f->d, "{\"cmd\":\"mr.dereg\",\"endpoint\":\"n\",\"handle\":%lld}", hmr);
	assert_int_equal(th_errno(r), EBUSY);
	json_object_put(r);
	assert_int_equal(ciov_dereg_mr(mr), 0); /* releases */
	assert_int_equal(ciov_detach_seg(seg), 0);
	r = th_admin_ok(&f->d, "{\"cmd\":\"mr.dereg\",\"endpoint\":\"n\",\"handle\":%lld}", hmr);
	assert_non_null(r);
	json_object_put(r);
	r = th_admin_ok(&f->d, "{\"cmd\":\"seg.detach\",\"endpoint\":\"n\",\"handle\":%lld}", hseg);
	assert_non_null(r);
	json_object_put(r);
	ciov_close_endpoint(n);
	munmap(mine, 4 * PG);
	close(fd);
}

static void reg_mr_on_pages_holding_library_state_keeps_it_working(void **state)
{
	struct fx *f = *state;
	struct ciov_mr *m1, *m2, *m3;
	uint8_t *buf = malloc(64);

	/* The library's own heap objects share pages with the application's:
	 * re-backing them must not lose a write the library made meanwhile. */
	assert_int_equal(ciov_reg_mr(f->pd, f->ep, 1, 0, &m1), 0);
	assert_int_equal(ciov_reg_mr(f->pd, m1, sizeof(*m1), 0, &m2), 0);
	assert_int_equal(ciov_reg_mr(f->pd, buf, 64, LW, &m3), 0);
	assert_int_equal(usage(f->ep, CIOV_QUOTA_mrs), 3);
	assert_int_equal(ciov_dereg_mr(m2), 0);
	assert_int_equal(ciov_dereg_mr(m1), 0);
	assert_int_equal(ciov_dereg_mr(m3), 0);
	assert_int_equal(usage(f->ep, CIOV_QUOTA_mrs), 0);
	free(buf);
}

static void reg_mr_on_the_callers_stack_is_EINVAL_and_touches_nothing(void **state)
{
	struct fx *f = *state;
	struct ciov_mr *mr;
	uint8_t buf[3 * 4096];
	char line[512];

	/* It would change while being copied, and a forked child would lose
	 * its stack. */
	fill(buf, sizeof(buf), 8);
	assert_int_equal(ciov_reg_mr(f->pd, buf, sizeof(buf), LW, &mr), -EINVAL);
	assert_filled(buf, sizeof(buf), 8);
	maps_line(buf, line, sizeof(line));
	assert_null(strstr(line, "memfd"));
	assert_int_equal(usage(f->ep, CIOV_QUOTA_segments), 0);
}

static void forked_child_does_not_write_into_the_parents_registered_pages(void **state)
{
	struct fx *f = *state;
	uint8_t *buf = malloc(2 * PG);
	struct ciov_mr *mr;
	int status;
	pid_t pid;

	fill(buf, 2 * PG, 9);
	assert_int_equal(ciov_reg_mr(f->pd, buf, 2 * PG, LW, &mr), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* The child sees the memory as it was at fork, and its
		 * writes and frees stay its own. */
		for (size_t i = 0; i < 2 * PG; i++)
			if (buf[i] != (uint8_t)(i * 31 + 9))
				_exit(2);
		memset(buf, 0xee, 2 * PG);
		free(buf);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_filled(buf, 2 * PG, 9);
	assert_int_equal(ciov_dereg_mr(mr), 0);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(reg_mr_on_malloc_memory_keeps_contents_and_address),
		T(reg_mr_again_on_the_same_buffer_reuses_its_segment),
		T(reg_mr_partly_registered_backs_only_the_gaps),
		T(reg_mr_refuses_remote_write_without_local_write),
		T(reg_mr_refuses_null_address_and_zero_length),
		T(reg_mr_on_unmapped_or_inaccessible_memory_is_EFAULT),
		T(reg_mr_on_read_only_memory_keeps_it_read_only),
		T(reg_mr_on_a_sealed_memfd_mapping_attaches_it_without_copy),
		T(reg_mr_on_shared_anonymous_memory_is_EINVAL),
		T(same_buffer_in_two_endpoints_shares_one_memfd),
		T(closing_the_endpoint_leaves_registered_memory_usable),
		T(unsealed_memfd_is_refused),
		T(fd_that_is_not_a_memfd_is_refused),
		T(range_beyond_file_size_is_refused),
		T(unaligned_zero_or_wrapping_segment_is_refused),
		T(overlapping_segment_is_EEXIST),
		T(segment_truncate_attempt_fails_and_daemon_survives),
		T(detach_seg_with_mr_gives_EBUSY),
		T(dealloc_pd_with_mr_gives_EBUSY),
		T(dereg_then_reregister_gives_a_new_key),
		T(mr_bytes_quota_gives_EDQUOT),
		T(mr_handle_of_other_endpoint_is_ENOENT),
		T(reg_mr_on_pages_holding_library_state_keeps_it_working),
		T(reg_mr_on_the_callers_stack_is_EINVAL_and_touches_nothing),
		T(forked_child_does_not_write_into_the_parents_registered_pages),
		T(native_tenant_cannot_reg_mr_EPERM),
		T(native_tenant_opens_provisioned_seg_and_mr_and_sees_the_memory),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
