/* SPDX-License-Identifier: MIT */
/*
 * libciov: segments and memory regions.
 *
 * ciov_reg_mr() makes any memory of the process registrable (DESIGN.md,
 * "Memory and DMA"): the page-aligned range is walked against the segments
 * this endpoint already has; every gap is looked up in /proc/self/maps and
 *  - private memory (malloc, mmap, private file maps) is re-backed: a new
 *    memfd gets a copy of the pages, is sealed, attached to the endpoint at
 *    iova == address, and then mapped MAP_FIXED|MAP_SHARED over the same
 *    addresses with the same protection (content and address unchanged);
 *  - shared file memory is attached as it is, through an fd of this
 *    process that refers to the same file (ciovd checks the seal);
 *  - holes, PROT_NONE and kernel-special mappings fail with -EFAULT, the
 *    calling thread's own stack with -EINVAL.
 * Segments created this way stay attached and re-backed for the life of
 * the endpoint: deregistration drops only the MR, so registering the same
 * buffer again costs one round trip. Each keeps a dup of its memfd (one fd
 * per segment) so that another endpoint of this process registering the
 * same pages attaches the same file. Closing the endpoint closes those fds
 * and frees the bookkeeping but never unmaps application memory: the pages
 * it re-backed become private mappings of their memfd (same bytes), and
 * are re-backed again if registered later.
 *
 * fork(): re-backed pages are MAP_SHARED, which a child would share with
 * its parent (heap included). A fork handler therefore remaps them
 * MAP_PRIVATE from the same memfd in the child: the child can never write
 * into the parent, at O(1) per segment (like the kernel's copy of pinned
 * pages at fork, except that a page the child has not written yet still
 * shows the parent's later writes). A fork+exec child is not affected.
 *
 * Caveat of re-backing (the classic one of RDMA registration): writes by
 * other threads to the pages while they are being copied are lost.
 *
 * Locking: an endpoint is used by one thread at a time (as all of
 * libciov); mem_lock only orders the segment maps against fork().
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lib/lib.h"
#include "lib/mem.h"

struct seg_priv {
	struct ciov_seg pub;
	struct lib_obj lo;
	int opened; /* ciov_open_seg: the library mapped pub.addr */
};

struct mr_priv {
	struct ciov_mr pub;
	struct lib_obj lo;
	int opened; /* ciov_open_mr: released with CLOSE, not deregistered */
};

static uint64_t page_size(void)
{
	return (uint64_t)sysconf(_SC_PAGESIZE);
}

/* ------------------------------------------------------------------------ */
/* The endpoint's segment map. */

static pthread_mutex_t mem_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mem_map *mem_maps; /* every endpoint's map, under mem_lock */

static void mem_fork_prepare(void)
{
	pthread_mutex_lock(&mem_lock);
}

static void mem_fork_parent(void)
{
	pthread_mutex_unlock(&mem_lock);
}

/* In the child: re-backed pages become private copies-on-write of the
 * memfd, so that nothing the child writes reaches the parent. */
static void mem_fork_child(void)
{
	for (struct mem_map *m = mem_maps; m; m = m->next)
		for (size_t i = 0; i < m->n; i++) {
			const struct mem_seg *s = &m->v[i];

			if (s->kind == MEM_SEG_BACKING && s->rebacked)
				mmap(s->local, s->length, s->prot, MAP_PRIVATE | MAP_FIXED, s->fd,
				     (off_t)s->file_off);
		}
	pthread_mutex_unlock(&mem_lock);
}

static void mem_atfork_once(void)
{
	pthread_atfork(mem_fork_prepare, mem_fork_parent, mem_fork_child);
}

static struct mem_map *mem_map_of(struct ciov_endpoint *ep)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct mem_map *m = ep->mem;

	if (m)
		return m;
	pthread_once(&once, mem_atfork_once);
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	pthread_mutex_lock(&mem_lock);
	m->next = mem_maps;
	if (mem_maps)
		mem_maps->prev = m;
	mem_maps = m;
	pthread_mutex_unlock(&mem_lock);
	ep->mem = m;
	return m;
}

/* Index of the first segment whose last byte is >= IOVA (n if none). */
static size_t mem_map_search(const struct mem_map *m, uint64_t iova)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->v[mid].iova + (m->v[mid].length - 1) < iova)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int mem_map_reserve(struct mem_map *m, size_t more)
{
	size_t ncap = m->cap ? m->cap : 16;
	struct mem_seg *nv;

	if (m->n + more <= m->cap)
		return 0;
	while (ncap < m->n + more)
		ncap *= 2;
	pthread_mutex_lock(&mem_lock);
	nv = realloc(m->v, ncap * sizeof(*nv));
	if (nv) {
		m->v = nv;
		m->cap = ncap;
	}
	pthread_mutex_unlock(&mem_lock);
	return nv ? 0 : -ENOMEM;
}

/* Inserts S; room must have been reserved. */
static void mem_map_insert(struct mem_map *m, const struct mem_seg *s)
{
	size_t i = mem_map_search(m, s->iova);

	pthread_mutex_lock(&mem_lock);
	memmove(&m->v[i + 1], &m->v[i], (m->n - i) * sizeof(*m->v));
	m->v[i] = *s;
	m->n++;
	pthread_mutex_unlock(&mem_lock);
}

static void mem_map_remove(struct mem_map *m, uint32_t handle)
{
	for (size_t i = 0; m && i < m->n; i++) {
		if (m->v[i].handle == handle) {
			pthread_mutex_lock(&mem_lock);
			memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof(*m->v));
			m->n--;
			pthread_mutex_unlock(&mem_lock);
			return;
		}
	}
}

/* The segment containing IOVA, or NULL. */
static const struct mem_seg *mem_map_find(const struct mem_map *m, uint64_t iova)
{
	size_t i;

	if (!m)
		return NULL;
	i = mem_map_search(m, iova);
	return i < m->n && m->v[i].iova <= iova ? &m->v[i] : NULL;
}

/* Whether another live map has a BACKING segment overlapping S (then the
 * pages are that segment's memfd too); it inherits the re-backed pages.
 * Called under mem_lock. */
static bool mem_hand_over(const struct mem_map *self, const struct mem_seg *s)
{
	bool found = false;

	for (struct mem_map *m = mem_maps; m; m = m->next) {
		if (m == self)
			continue;
		for (size_t i = 0; i < m->n; i++) {
			struct mem_seg *o = &m->v[i];

			if (o->kind == MEM_SEG_BACKING && o->iova < s->iova + s->length &&
			    s->iova < o->iova + o->length) {
				o->rebacked = true;
				found = true;
			}
		}
	}
	return found;
}

/*
 * Endpoint close: the segments go, the application's memory stays. Pages
 * this library re-backed become private copy-on-write mappings of their
 * memfd (same bytes, no copy), so that fork() treats them as ordinary
 * private memory again, unless another endpoint still uses them.
 */
void mem_fini(struct ciov_endpoint *ep)
{
	struct mem_map *m = ep->mem;

	if (!m)
		return;
	pthread_mutex_lock(&mem_lock);
	if (m->prev)
		m->prev->next = m->next;
	else
		mem_maps = m->next;
	if (m->next)
		m->next->prev = m->prev;
	for (size_t i = 0; i < m->n; i++) {
		const struct mem_seg *s = &m->v[i];

		if (s->kind != MEM_SEG_BACKING)
			continue;
		if (s->rebacked && !mem_hand_over(m, s))
			mmap(s->local, s->length, s->prot, MAP_PRIVATE | MAP_FIXED, s->fd,
			     (off_t)s->file_off);
		close(s->fd);
	}
	pthread_mutex_unlock(&mem_lock);
	free(m->v);
	free(m);
	ep->mem = NULL;
}

/* ------------------------------------------------------------------------ */
/* Control round trips. */

static int seg_attach_call(struct ciov_endpoint *ep, int fd, uint64_t offset, uint64_t length,
			   uint64_t iova, struct ciov_ctl_seg_rep *rp)
{
	struct ciov_ctl_seg_attach_req rq = {.iova = iova, .length = length, .offset = offset};

	return lib_call(ep, CIOV_CTL_SEG_ATTACH, &rq, sizeof(rq), rp, sizeof(*rp), &fd, 1, NULL, 0);
}

static int seg_detach_call(struct ciov_endpoint *ep, uint32_t handle)
{
	struct ciov_ctl_handle rq = {.handle = handle};
	struct ciov_ctl_none rp;

	return lib_call(ep, CIOV_CTL_SEG_DETACH, &rq, sizeof(rq), &rp, sizeof(rp), NULL, 0, NULL, 0);
}

/* Records a segment ciov_reg_mr attached at IOVA (== its address), keeping
 * FD (a dup of the memfd) open. Room must have been reserved. */
static void mem_record_backing(struct ciov_endpoint *ep, uint32_t handle, uint64_t iova,
			       uint64_t length, int fd, uint64_t file_off, int prot, bool rebacked)
{
	mem_map_insert(ep->mem, &(struct mem_seg){
		.iova = iova, .length = length, .local = (uint8_t *)(uintptr_t)iova,
		.handle = handle, .kind = MEM_SEG_BACKING, .fd = fd, .file_off = file_off,
		.prot = prot, .rebacked = rebacked,
	});
}

/* ------------------------------------------------------------------------ */
/* Backing a gap: /proc/self/maps tells what lies there. */

#define BACKING_NAME "ciov-mr" /* the memfds made here: /memfd:ciov-mr (deleted) */

struct vma_piece {
	uint64_t start, end; /* the part of one mapping inside the gap */
	int prot;
	bool shared;	   /* attach FD as is; else copy into a new memfd */
	bool ours;	   /* a memfd this library made (BACKING_NAME) */
	uint64_t file_off; /* of start in the mapping's file */
	dev_t dev;
	ino_t ino;
	int fd;		   /* shared: an fd of this process on the file */
};

struct pieces {
	struct vma_piece *v;
	size_t n, cap;
};

static int pieces_add(struct pieces *p, const struct vma_piece *pc)
{
	if (p->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 8;
		struct vma_piece *nv = realloc(p->v, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		p->v = nv;
		p->cap = ncap;
	}
	p->v[p->n++] = *pc;
	return 0;
}

/* Bytes below the stack pointer that the re-backing window itself may use
 * (libc and syscall frames, a signal handler). */
#define STACK_MARGIN (64 * 1024)

/*
 * Reads the mappings that cover [start, end) into P, in address order.
 * -EFAULT if a byte is unmapped, unreadable or in a kernel-special
 * mapping ([vdso], [vvar], [vsyscall]); -EINVAL if it is in the calling
 * thread's live stack (from SP - STACK_MARGIN to the top of the mapping
 * that holds SP): that memory changes while it is being copied.
 */
static int vma_scan(uint64_t start, uint64_t end, uintptr_t sp, struct pieces *p)
{
	FILE *f = fopen("/proc/self/maps", "re");
	uint64_t next = start;
	char *line = NULL;
	size_t cap = 0;
	int err = 0;

	if (!f)
		return -errno;
	while (next < end && getline(&line, &cap, f) > 0) {
		unsigned long long lo, hi, off, ino;
		unsigned maj, mnr;
		char perms[5];
		int path = 0;
		const char *name;
		struct vma_piece pc;

		if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu %n", &lo, &hi, perms, &off, &maj,
			   &mnr, &ino, &path) < 7) {
			err = -EIO;
			break;
		}
		if (hi <= next)
			continue;
		if (lo > next || perms[0] != 'r') {
			err = -EFAULT; /* a hole, or PROT_NONE / write-only */
			break;
		}
		if (lo <= sp && sp < hi && start < hi && sp - STACK_MARGIN < end) {
			err = -EINVAL;
			break;
		}
		name = line + path;
		if (name[0] == '[' && strncmp(name, "[heap]", 6) != 0 &&
		    strncmp(name, "[stack", 6) != 0) {
			err = -EFAULT;
			break;
		}
		pc = (struct vma_piece){
			.start = next,
			.end = hi < end ? hi : end,
			.prot = PROT_READ | (perms[1] == 'w' ? PROT_WRITE : 0) |
				(perms[2] == 'x' ? PROT_EXEC : 0),
			.shared = perms[3] == 's',
			.ours = strncmp(name, "/memfd:" BACKING_NAME " ", sizeof("/memfd:" BACKING_NAME)) == 0,
			.file_off = off + (next - lo),
			.dev = makedev(maj, mnr),
			.ino = (ino_t)ino,
			.fd = -1,
		};
		err = pieces_add(p, &pc);
		if (err)
			break;
		next = pc.end;
	}
	if (!err && next < end)
		err = -EFAULT;
	free(line);
	fclose(f);
	return err;
}

/* An fd of this process open on the file (DEV, INO), or -ENOENT. */
static int fd_of_file(dev_t dev, ino_t ino)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int found = -ENOENT;

	if (!d)
		return -errno;
	while (found < 0 && (de = readdir(d))) {
		struct stat st;
		char *endp;
		long fd = strtol(de->d_name, &endp, 10);

		if (*endp || endp == de->d_name || fd == dirfd(d))
			continue;
		if (fstat((int)fd, &st) == 0 && st.st_dev == dev && st.st_ino == ino)
			found = (int)fd;
	}
	closedir(d);
	return found;
}

/*
 * Decides how each shared piece is attached. A shared mapping is attached
 * as is, through an fd of this process on its file: every segment made
 * here keeps a dup of its memfd, so memory another endpoint of this
 * process registered is found that way and both see the same pages. A
 * memfd of ours that no fd refers to any more belongs to no open endpoint
 * and is re-backed like private memory. Any other shared memory without
 * an fd (MAP_SHARED|MAP_ANONYMOUS, a closed file) cannot be attached, and
 * copying it would break its sharing: -EINVAL.
 */
static int vma_classify(struct pieces *p)
{
	for (size_t i = 0; i < p->n; i++) {
		struct vma_piece *pc = &p->v[i];

		if (!pc->shared)
			continue;
		pc->fd = fd_of_file(pc->dev, pc->ino);
		if (pc->fd >= 0)
			continue;
		if (!pc->ours)
			return -EINVAL;
		pc->shared = false;
	}
	return 0;
}

/* Shared file memory: attached as is, no re-backing. */
static int back_shared(struct ciov_endpoint *ep, const struct vma_piece *pc)
{
	uint64_t len = pc->end - pc->start;
	struct ciov_ctl_seg_rep rp;
	int err, fd = fcntl(pc->fd, F_DUPFD_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	err = seg_attach_call(ep, fd, pc->file_off, len, pc->start, &rp);
	if (err) {
		close(fd);
		return err;
	}
	mem_record_backing(ep, rp.handle, pc->start, len, fd, pc->file_off, pc->prot, false);
	return 0;
}

/*
 * Private memory [pcs[0].start, pcs[n-1].end): a sealed memfd is attached
 * first (a refusal leaves the process untouched), then receives a copy of
 * the pages and is mapped over them.
 *
 * Between the copy and the remap nothing may write to the range, or the
 * write is lost: the range may share pages with the heap, the library's
 * own allocations included (the endpoint, the segment map). So that window
 * holds only the copy and the mmap calls, on the caller's stack, which
 * mem_back_gap() keeps out of the range.
 * All pieces have the same protection (one segment per protection, for
 * the fork handler).
 */
static int back_private(struct ciov_endpoint *ep, const struct vma_piece *pcs, size_t n)
{
	uint64_t start = pcs[0].start, len = pcs[n - 1].end - start, done = 0;
	struct ciov_ctl_seg_rep rp;
	int fd, err;

	fd = memfd_create(BACKING_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	/* SHRINK is what ciovd requires; the file backs exactly these pages,
	 * so its size is final (GROW) and so are its seals (SEAL). */
	if (ftruncate(fd, (off_t)len) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		err = -errno;
		goto err_close;
	}
	err = seg_attach_call(ep, fd, 0, len, start, &rp);
	if (err)
		goto err_close;
	/* The kernel copies: an unreadable page fails with EFAULT instead of
	 * crashing us. The raw syscall, because whole pages hold other
	 * objects too (and sanitizers' redzones, which an intercepted
	 * pwrite() would report). */
	while (done < len) {
		ssize_t w = syscall(SYS_pwrite64, fd, (const void *)(uintptr_t)(start + done),
				    (size_t)(len - done), (off_t)done);

		if (w <= 0) {
			err = w < 0 ? -errno : -EIO;
			goto err_detach;
		}
		done += (uint64_t)w;
	}
	for (size_t i = 0; i < n; i++) {
		void *p = mmap((void *)(uintptr_t)pcs[i].start, pcs[i].end - pcs[i].start,
			       pcs[i].prot, MAP_SHARED | MAP_FIXED, fd, (off_t)(pcs[i].start - start));

		if (p == MAP_FAILED) {
			/* Pieces already remapped hold the same bytes, and
			 * with the fd closed they are re-backed next time. */
			err = -errno;
			goto err_detach;
		}
	}
	mem_record_backing(ep, rp.handle, start, len, fd, 0, pcs[0].prot, true);
	return 0;

err_detach:
	seg_detach_call(ep, rp.handle);
err_close:
	close(fd);
	return err;
}

/* Backs [start, end), which no segment of EP covers. */
static int mem_back_gap(struct ciov_endpoint *ep, uint64_t start, uint64_t end)
{
	struct mem_map *m = mem_map_of(ep);
	struct pieces p = {0};
	int err;

	if (!m)
		return -ENOMEM;
	err = vma_scan(start, end, (uintptr_t)&p, &p);
	if (!err)
		err = vma_classify(&p);
	/* One segment per piece at most: reserve now, no allocation later. */
	if (!err)
		err = mem_map_reserve(m, p.n);
	for (size_t i = 0, j; !err && i < p.n; i = j) {
		j = i + 1;
		if (p.v[i].shared) {
			err = back_shared(ep, &p.v[i]);
			continue;
		}
		/* A run of private pieces of one protection: one memfd. */
		while (j < p.n && !p.v[j].shared && p.v[j].prot == p.v[i].prot)
			j++;
		err = back_private(ep, &p.v[i], j - i);
	}
	free(p.v);
	return err;
}

/* Makes every page of [addr, addr + len) part of a segment of EP. */
static int mem_cover(struct ciov_endpoint *ep, uint64_t addr, uint64_t len)
{
	uint64_t pg = page_size();
	uint64_t last = addr + len - 1; /* no wrap: checked by the caller */
	uint64_t cur = addr & ~(pg - 1), end;

	if (last > UINT64_MAX - pg)
		return -EFAULT; /* the top page of 2^64: never user memory */
	end = (last + pg) & ~(pg - 1);
	while (cur < end) {
		const struct mem_map *m = ep->mem;
		size_t i = m ? mem_map_search(m, cur) : 0;
		uint64_t gap_end = end;
		int err;

		if (m && i < m->n && m->v[i].iova <= cur) {
			uint64_t seg_last = m->v[i].iova + (m->v[i].length - 1);

			if (seg_last >= end - 1)
				return 0;
			cur = seg_last + 1;
			continue;
		}
		if (m && i < m->n && m->v[i].iova < end)
			gap_end = m->v[i].iova;
		err = mem_back_gap(ep, cur, gap_end);
		if (err)
			return err;
		cur = gap_end;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Segments. */

static void seg_release(struct lib_obj *lo)
{
	struct seg_priv *s = lib_container_of(lo, struct seg_priv, lo);

	if (s->opened)
		munmap(s->pub.addr, s->pub.length);
	free(s);
}

static int seg_new(struct ciov_endpoint *ep, const struct ciov_ctl_seg_rep *rp, void *addr,
		   int opened, struct ciov_seg **ret)
{
	struct mem_map *m = mem_map_of(ep);
	struct seg_priv *s;

	if (!m || mem_map_reserve(m, 1))
		return -ENOMEM;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->pub = (struct ciov_seg){
		.ep = ep, .handle = rp->handle, .addr = addr, .iova = rp->iova, .length = rp->length,
	};
	s->opened = opened;
	mem_map_insert(m, &(struct mem_seg){
		.iova = rp->iova, .length = rp->length, .local = addr, .handle = rp->handle,
		.kind = opened ? MEM_SEG_OPENED : MEM_SEG_USER, .fd = -1,
	});
	lib_track(ep, &s->lo, seg_release);
	*ret = &s->pub;
	return 0;
}

int ciov_attach_seg(struct ciov_endpoint *ep, int fd, uint64_t offset, uint64_t length,
		    uint64_t iova, struct ciov_seg **ret)
{
	struct ciov_ctl_seg_rep rp;
	int err;

	if (!ep || fd < 0 || !ret)
		return -EINVAL;
	err = seg_attach_call(ep, fd, offset, length, iova, &rp);
	if (err)
		return err;
	/* Where the caller mapped the fd is its own business: addr NULL. */
	err = seg_new(ep, &rp, NULL, 0, ret);
	if (err)
		seg_detach_call(ep, rp.handle);
	return err;
}

int ciov_open_seg(struct ciov_endpoint *ep, uint32_t handle, struct ciov_seg **ret)
{
	struct ciov_ctl_handle rq = {.handle = handle};
	struct ciov_ctl_seg_rep rp;
	void *addr;
	int fd, err;

	if (!ep || !ret)
		return -EINVAL;
	err = lib_call(ep, CIOV_CTL_SEG_OPEN, &rq, sizeof(rq), &rp, sizeof(rp), NULL, 0, &fd, 1);
	if (err)
		return err;
	/* The reply is from ciovd, but a length that does not fit size_t or
	 * off_t would make mmap lie; mmap checks the rest. */
	if (rp.length == 0 || rp.length > SIZE_MAX || (off_t)rp.offset < 0) {
		err = -EPROTO;
		goto err_close;
	}
	addr = mmap(NULL, rp.length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)rp.offset);
	if (addr == MAP_FAILED) {
		err = -errno;
		goto err_close;
	}
	err = seg_new(ep, &rp, addr, 1, ret);
	if (err) {
		munmap(addr, rp.length);
		goto err_close;
	}
	close(fd);
	return 0;

err_close:
	close(fd);
	lib_close_handle(ep, CIOV_OBJ_SEG, handle);
	return err;
}

int ciov_detach_seg(struct ciov_seg *seg)
{
	struct seg_priv *s;
	int err;

	if (!seg)
		return 0;
	s = lib_container_of(seg, struct seg_priv, pub);
	err = s->opened ? lib_close_handle(seg->ep, CIOV_OBJ_SEG, seg->handle)
			: seg_detach_call(seg->ep, seg->handle);
	if (err)
		return err;
	mem_map_remove(seg->ep->mem, seg->handle);
	lib_untrack(&s->lo);
	seg_release(&s->lo);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Memory regions. */

static void mr_release(struct lib_obj *lo)
{
	free(lib_container_of(lo, struct mr_priv, lo));
}

static int mr_new(struct ciov_pd *pd, const struct ciov_ctl_mr_rep *rp, int opened,
		  struct ciov_mr **ret)
{
	const struct mem_seg *s = mem_map_find(pd->ep->mem, rp->iova);
	struct mr_priv *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->pub = (struct ciov_mr){
		.pd = pd,
		.addr = s && s->local ? s->local + (rp->iova - s->iova) : NULL,
		.iova = rp->iova,
		.length = rp->length,
		.handle = rp->handle,
		.lkey = rp->lkey,
		.rkey = rp->rkey,
		.access = rp->access,
	};
	m->opened = opened;
	lib_track(pd->ep, &m->lo, mr_release);
	*ret = &m->pub;
	return 0;
}

int ciov_reg_mr(struct ciov_pd *pd, void *addr, size_t length, unsigned access,
		struct ciov_mr **ret)
{
	struct ciov_ctl_mr_reg_req rq;
	struct ciov_ctl_mr_rep rp;
	uint64_t iova = (uint64_t)(uintptr_t)addr;
	int err;

	if (!pd || !addr || !length || !ret || iova + length - 1 < iova)
		return -EINVAL;
	/* Checked here too, so that a request ciovd would refuse never
	 * re-backs memory. IBA 10.6.3.1: remote write/atomic need local
	 * write. */
	if (access & ~CIOV_ACCESS_ALL ||
	    (access & (CIOV_ACCESS_REMOTE_WRITE | CIOV_ACCESS_REMOTE_ATOMIC) &&
	     !(access & CIOV_ACCESS_LOCAL_WRITE)))
		return -EINVAL;
	if (pd->ep->info.mode == CIOV_MODE_NATIVE)
		return -EPERM; /* only the manager registers; ciovd agrees */
	err = mem_cover(pd->ep, iova, length);
	if (err)
		return err;
	rq = (struct ciov_ctl_mr_reg_req){
		.pd = pd->handle, .access = access, .iova = iova, .length = length,
	};
	err = lib_call(pd->ep, CIOV_CTL_MR_REG, &rq, sizeof(rq), &rp, sizeof(rp), NULL, 0, NULL, 0);
	if (err)
		return err;
	err = mr_new(pd, &rp, 0, ret);
	if (err) {
		struct ciov_ctl_handle d = {.handle = rp.handle};
		struct ciov_ctl_none n;

		lib_call(pd->ep, CIOV_CTL_MR_DEREG, &d, sizeof(d), &n, sizeof(n), NULL, 0, NULL, 0);
	}
	return err;
}

int ciov_open_mr(struct ciov_pd *pd, uint32_t handle, struct ciov_mr **ret)
{
	struct ciov_ctl_handle rq = {.handle = handle};
	struct ciov_ctl_mr_rep rp;
	int err;

	if (!pd || !ret)
		return -EINVAL;
	err = lib_call(pd->ep, CIOV_CTL_MR_OPEN, &rq, sizeof(rq), &rp, sizeof(rp), NULL, 0, NULL, 0);
	if (err)
		return err;
	/* The MR must be in the PD the caller names. */
	err = rp.pd == pd->handle ? mr_new(pd, &rp, 1, ret) : -EINVAL;
	if (err)
		lib_close_handle(pd->ep, CIOV_OBJ_MR, handle);
	return err;
}

int ciov_dereg_mr(struct ciov_mr *mr)
{
	struct mr_priv *m;
	int err;

	if (!mr)
		return 0;
	m = lib_container_of(mr, struct mr_priv, pub);
	if (m->opened) {
		err = lib_close_handle(mr->pd->ep, CIOV_OBJ_MR, mr->handle);
	} else {
		struct ciov_ctl_handle rq = {.handle = mr->handle};
		struct ciov_ctl_none rp;

		err = lib_call(mr->pd->ep, CIOV_CTL_MR_DEREG, &rq, sizeof(rq), &rp, sizeof(rp),
			       NULL, 0, NULL, 0);
	}
	if (err)
		return err;
	lib_untrack(&m->lo);
	free(m);
	return 0;
}
