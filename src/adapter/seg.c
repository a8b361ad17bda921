/* SPDX-License-Identifier: MIT */
/*
 * Segments: SEG_ATTACH, SEG_DETACH, SEG_OPEN.
 *
 * Security model: the fd, offset, length and iova come from a tenant (or
 * from the manager on its behalf) and may be anything. ciovd only maps a
 * memfd that is sealed against shrinking (F_SEAL_SHRINK), and only a range
 * inside the file's size at attach time: the seal keeps it inside forever,
 * so touching the mapping can never raise SIGBUS in the adapter. Every
 * range is page-aligned and checked for wrap before it is used.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adapter/ctl.h"
#include "adapter/endpoint.h"
#include "adapter/iommu.h"
#include "adapter/log.h"
#include "adapter/obj.h"
#include "adapter/seg.h"

#define seg_refuse(ep, err, fmt, ...)                                          \
	({                                                                     \
		log_warn_rl("endpoint %s: seg_attach: " fmt, (ep)->name, ##__VA_ARGS__); \
		(err);                                                         \
	})

void seg_destroy(struct obj *o)
{
	struct seg *s = seg_of(o);

	/* A segment is only published (mapped in the IOMMU) once complete;
	 * a half-built one has host == NULL and fd == -1 or a valid fd. */
	if (s->host) {
		/* Unmap from the I/O space first: this also invalidates the
		 * IOTLB entries, so nothing translates into the memory we are
		 * about to munmap. */
		iommu_unmap(o->ep->iommu, s->iova, s->length);
		munmap(s->host, s->length);
	}
	if (s->fd >= 0)
		close(s->fd);
	ep_uncharge(o->ep, CIOV_QUOTA_seg_bytes, s->charged);
}

/* Checks that FD is a memfd that ciovd may map for [offset, offset+len). */
static int seg_check_fd(struct endpoint *ep, int fd, uint64_t offset, uint64_t length)
{
	struct stat st;
	int seals;

	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0)
		return seg_refuse(ep, -EINVAL, "fd is not a memfd (no seals: %s)", strerror(errno));
	if (!(seals & F_SEAL_SHRINK))
		return seg_refuse(ep, -EINVAL, "memfd is not sealed with F_SEAL_SHRINK");
	/* A write-sealed memfd cannot be mapped writable (no RDMA WRITE or
	 * receive into it); refuse it here with a clear message. */
	if (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))
		return seg_refuse(ep, -EINVAL, "memfd is sealed against writes");
	/* fstat after the seal check: the size can only grow from here on. */
	if (fstat(fd, &st) < 0)
		return seg_refuse(ep, -EINVAL, "fstat: %s", strerror(errno));
	if (!S_ISREG(st.st_mode) || st.st_size < 0 || offset > (uint64_t)st.st_size ||
	    length > (uint64_t)st.st_size - offset)
		return seg_refuse(ep, -EINVAL,
				  "range [%#llx, +%#llx) lies outside the memfd (%lld bytes)",
				  (unsigned long long)offset, (unsigned long long)length,
				  (long long)st.st_size);
	/* A hugetlbfs memfd maps and unmaps in huge pages (st_blksize); a
	 * tmpfs one reports the base page. */
	if (st.st_blksize > 0 && (offset | length) % (uint64_t)st.st_blksize)
		return seg_refuse(ep, -EINVAL, "offset and length must be multiples of the memfd's page size %ld",
				  (long)st.st_blksize);
	return 0;
}

static int seg_check_range(struct endpoint *ep, const struct ciov_ctl_seg_attach_req *rq)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

	if (rq->length == 0)
		return seg_refuse(ep, -EINVAL, "zero length");
	if ((rq->iova | rq->offset | rq->length) & (page - 1) ||
	    (rq->iova | rq->length) & (IOMMU_PAGE_SIZE - 1))
		return seg_refuse(ep, -EINVAL, "iova %#llx, offset %#llx or length %#llx is not page-aligned",
				  (unsigned long long)rq->iova, (unsigned long long)rq->offset,
				  (unsigned long long)rq->length);
	if (rq->iova + rq->length - 1 < rq->iova)
		return seg_refuse(ep, -EINVAL, "iova %#llx + length %#llx wraps",
				  (unsigned long long)rq->iova, (unsigned long long)rq->length);
	/* Sanity bound on one mapping; MRs are charged against mr_bytes. */
	if (rq->length > ep->ad->lim.max_mr_size)
		return seg_refuse(ep, -EINVAL, "length %#llx exceeds the adapter's max_mr_size",
				  (unsigned long long)rq->length);
	if ((off_t)rq->offset < 0 || (off_t)(rq->offset + rq->length) < 0)
		return seg_refuse(ep, -EINVAL, "offset %#llx out of range",
				  (unsigned long long)rq->offset);
	return 0;
}

int ctl_seg_attach(struct caller *c, const struct ciov_ctl_seg_attach_req *rq,
		   struct ciov_ctl_seg_rep *rp, int *fds_in, int *fds_out)
{
	struct endpoint *ep = c->ep;
	struct seg *s;
	struct obj *o;
	void *host;
	int err;

	err = seg_check_range(ep, rq);
	if (err)
		return err;
	err = seg_check_fd(ep, fds_in[0], rq->offset, rq->length);
	if (err)
		return err;
	err = ctl_obj_create(c, CIOV_OBJ_SEG, sizeof(*s), &o);
	if (err)
		return err;
	s = seg_of(o);
	s->fd = -1;
	/* Bytes of ciovd's address space a tenant may make it map. */
	err = ep_charge(ep, CIOV_QUOTA_seg_bytes, rq->length);
	if (err) {
		seg_refuse(ep, err, "%llu more bytes exceed the seg_bytes quota",
			   (unsigned long long)rq->length);
		goto err_obj;
	}
	s->charged = rq->length;
	host = mmap(NULL, rq->length, PROT_READ | PROT_WRITE, MAP_SHARED, fds_in[0],
		    (off_t)rq->offset);
	if (host == MAP_FAILED) {
		err = errno == ENOMEM ? -ENOMEM : -EINVAL;
		seg_refuse(ep, err, "mmap: %s", strerror(errno));
		goto err_obj;
	}
	err = iommu_map(ep->iommu, rq->iova, rq->length, host, s);
	if (err) {
		if (err == -EEXIST)
			seg_refuse(ep, err, "[%#llx, +%#llx) overlaps an attached segment",
				   (unsigned long long)rq->iova, (unsigned long long)rq->length);
		munmap(host, rq->length);
		goto err_obj;
	}
	s->host = host;
	s->iova = rq->iova;
	s->length = rq->length;
	s->offset = rq->offset;
	s->fd = fds_in[0];
	fds_in[0] = -1; /* kept: SEG_OPEN hands out dups */
	rp->handle = o->handle;
	rp->iova = s->iova;
	rp->length = s->length;
	rp->offset = s->offset;
	return 0;

err_obj:
	obj_free(o);
	return err;
}

int ctl_seg_detach(struct caller *c, const struct ciov_ctl_handle *rq, struct ciov_ctl_none *rp,
		   int *fds_in, int *fds_out)
{
	return ctl_obj_destroy(c, CIOV_OBJ_SEG, rq->handle);
}

int ctl_seg_open(struct caller *c, const struct ciov_ctl_handle *rq, struct ciov_ctl_seg_rep *rp,
		 int *fds_in, int *fds_out)
{
	struct obj *o;
	struct seg *s;
	int fd, err;

	err = ctl_lookup_provisioned(c, CIOV_OBJ_SEG, rq->handle, &o);
	if (err)
		return err;
	s = seg_of(o);
	/* Dup before attaching, so that a failure leaves nothing to undo. */
	fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	err = ctl_obj_open(c, CIOV_OBJ_SEG, rq->handle, &o);
	if (err) {
		close(fd);
		return err;
	}
	fds_out[0] = fd;
	rp->handle = o->handle;
	rp->iova = s->iova;
	rp->length = s->length;
	rp->offset = s->offset;
	return 0;
}
