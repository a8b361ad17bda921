/* SPDX-License-Identifier: MIT */
/*
 * Shared-memory rings, ciovd's side.
 *
 * Security model: the tenant maps every ring read/write and may change any
 * byte of it at any moment, including while ciovd reads it. ciovd therefore
 * keeps geometry (entries, entry_size, mask) and its own index privately,
 * reads the tenant's index once per operation, checks that it lies within
 * the ring, and copies an entry out before anything validates it (no
 * double fetch). A ring whose indices are impossible is put in error, never
 * trusted. The memfd is sealed so that the tenant cannot shrink it under
 * ciovd's mapping (no SIGBUS).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "adapter/ring.h"
#include "common/ring.h"

#define RING_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

uint32_t ring_entries_for(uint32_t n)
{
	uint32_t e = 1;

	if (n == 0 || n > RING_MAX_ENTRIES)
		return 0;
	while (e < n)
		e <<= 1;
	return e;
}

static size_t page_size(void)
{
	long ps = sysconf(_SC_PAGESIZE);

	return ps > 0 ? (size_t)ps : 4096;
}

size_t ring_bytes(uint32_t entries, uint32_t entry_size)
{
	size_t ps = page_size();
	/* entries <= 2^20 and entry_size < 2^16: no overflow in size_t. */
	size_t n = sizeof(struct ciov_ring_ctrl) + (size_t)entries * entry_size;

	return (n + ps - 1) / ps * ps;
}

int ring_mem_create(size_t size, struct ring_mem *m)
{
	int err;

	m->fd = memfd_create("ciov-ring", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	m->base = NULL;
	m->size = size;
	if (m->fd < 0)
		return -errno;
	if (ftruncate(m->fd, (off_t)size) < 0 || fcntl(m->fd, F_ADD_SEALS, RING_SEALS) < 0) {
		err = -errno;
		goto err_close;
	}
	m->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
	if (m->base == MAP_FAILED) {
		err = -errno;
		m->base = NULL;
		goto err_close;
	}
	return 0;

err_close:
	close(m->fd);
	m->fd = -1;
	return err;
}

void ring_mem_destroy(struct ring_mem *m)
{
	if (m->base)
		munmap(m->base, m->size);
	if (m->fd >= 0)
		close(m->fd);
	m->base = NULL;
	m->fd = -1;
}

int ring_mem_dup(const struct ring_mem *m)
{
	int fd = fcntl(m->fd, F_DUPFD_CLOEXEC, 0);

	return fd < 0 ? -errno : fd;
}

void ring_init(struct ring *r, void *base, enum ciov_ring_kind kind, uint32_t entries,
	       uint32_t entry_size, uint32_t owner)
{
	struct ciov_ring_ctrl *c = base;

	*r = (struct ring){
		.ctrl = c,
		.slots = (uint8_t *)base + sizeof(*c),
		.entries = entries,
		.mask = entries - 1,
		.entry_size = entry_size,
		.kind = kind,
	};
	memset(c, 0, sizeof(*c));
	c->magic = CIOV_RING_MAGIC;
	c->version = CIOV_ABI_VERSION;
	c->kind = (uint16_t)kind;
	c->entries = entries;
	c->entry_size = entry_size;
	c->owner = owner;
	c->need_kick = kind != CIOV_RING_CQ && kind != CIOV_RING_ASYNC;
}

void ring_reset(struct ring *r)
{
	r->idx = 0;
	r->error = false;
	ring_store_relaxed(&r->ctrl->prod, 0);
	ring_store_relaxed(&r->ctrl->cons, 0);
	ring_store_relaxed(&r->ctrl->error, 0);
	ring_store_relaxed(&r->ctrl->need_kick, r->kind != CIOV_RING_CQ && r->kind != CIOV_RING_ASYNC);
}

void ring_set_error(struct ring *r)
{
	r->error = true;
	/* Pairs with the library's acquire of error: entries published
	 * before the error are visible with it. */
	ring_store_release(&r->ctrl->error, 1);
}

void ring_show_error(struct ring *r, bool on)
{
	/* Pairs with the library's acquire of error, as above. */
	ring_store_release(&r->ctrl->error, on || r->error);
}

/* The tenant's producer index, checked: the number of entries ready, or
 * -EPROTO (ring put in error). */
static int64_t ring_avail(struct ring *r)
{
	/* Pairs with the tenant's release store of prod in its post path:
	 * the entries before prod are written. */
	uint32_t prod = ring_load_acquire(&r->ctrl->prod);
	uint32_t n = ring_used(prod, r->idx);

	if (r->error)
		return -EPROTO;
	if (n > r->entries) {
		/* Hostile or corrupt: more published than the ring holds. */
		ring_set_error(r);
		return -EPROTO;
	}
	return n;
}

uint32_t ring_pending(struct ring *r)
{
	int64_t n = ring_avail(r);

	return n > 0 ? (uint32_t)n : 0;
}

int ring_peek_at(struct ring *r, uint32_t at, void *out)
{
	int64_t n = ring_avail(r);

	if (n < 0)
		return (int)n;
	if (n <= at)
		return -EAGAIN;
	/* One copy; callers validate OUT, never the slot. */
	memcpy(out, r->slots + (size_t)((r->idx + at) & r->mask) * r->entry_size, r->entry_size);
	return 0;
}

int ring_peek(struct ring *r, void *out)
{
	return ring_peek_at(r, 0, out);
}

void ring_pop(struct ring *r)
{
	r->idx++;
	/* Pairs with the tenant's acquire of cons before it reuses the slot:
	 * our copy of the entry is complete. */
	ring_store_release(&r->ctrl->cons, r->idx);
}

int ring_push(struct ring *r, const void *entry)
{
	/* Pairs with the tenant's release store of cons in poll_cq: the slots
	 * before cons have been read and may be overwritten. */
	uint32_t cons = ring_load_acquire(&r->ctrl->cons);
	uint32_t used = ring_used(r->idx, cons);

	if (r->error)
		return -EPROTO;
	if (used > r->entries) {
		/* cons ahead of prod or further back than the ring: hostile. */
		ring_set_error(r);
		return -EPROTO;
	}
	if (used == r->entries)
		return -ENOSPC;
	memcpy(r->slots + (size_t)(r->idx & r->mask) * r->entry_size, entry, r->entry_size);
	r->idx++;
	/* Pairs with the tenant's acquire of prod in poll_cq: the entry is
	 * written before it becomes visible. */
	ring_store_release(&r->ctrl->prod, r->idx);
	return 0;
}
