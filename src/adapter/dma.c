/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "adapter/dma.h"
#include "adapter/iommu.h"

/* The contiguous span at C's position: at most WANT bytes. */
static int dma_span(struct dma_cursor *c, uint64_t want, uint8_t **p, uint64_t *len)
{
	const struct dma_seg *s;
	void *host;

	if (!c->mmu) {
		*p = c->buf + c->off;
		*len = want;
		return 0;
	}
	while (c->i < c->nseg && c->off == c->seg[c->i].len) {
		c->i++;
		c->off = 0;
	}
	if (c->i == c->nseg)
		return -EFAULT;
	s = &c->seg[c->i];
	if (want > s->len - c->off)
		want = s->len - c->off;
	if (iommu_translate_chunk(c->mmu, s->iova + c->off, want, &host, len))
		return -EFAULT;
	*p = host;
	return 0;
}

static void dma_advance(struct dma_cursor *c, uint64_t n)
{
	c->off += n;
}

int dma_copy(struct dma_cursor *dst, struct dma_cursor *src, uint64_t len)
{
	while (len) {
		uint8_t *d, *s;
		uint64_t dl, sl, n;

		if (dma_span(dst, len, &d, &dl) || dma_span(src, dl, &s, &sl))
			return -EFAULT;
		n = sl < dl ? sl : dl;
		/* memmove: a tenant may point both ends at the same memory. */
		memmove(d, s, n);
		dma_advance(dst, n);
		dma_advance(src, n);
		len -= n;
	}
	return 0;
}

int64_t dma_copy_pkts(struct dma_cursor *dst, struct dma_cursor *src, uint64_t len,
		      uint64_t pkt, bool (*stop)(const void *arg), const void *arg)
{
	uint64_t done = 0;

	while (done < len && !(done && stop(arg))) {
		uint64_t n = len - done < pkt ? len - done : pkt;

		if (dma_copy(dst, src, n))
			return -EFAULT;
		done += n;
	}
	return (int64_t)done;
}

void dma_skip(struct dma_cursor *c, uint64_t len)
{
	if (!c->mmu) {
		c->off += len;
		return;
	}
	while (len && c->i < c->nseg) {
		uint64_t room = c->seg[c->i].len - c->off;

		if (len < room) {
			c->off += len;
			return;
		}
		len -= room;
		c->i++;
		c->off = 0;
	}
}

int dma_iov(struct dma_cursor *c, uint64_t len, struct iovec *iov, int max)
{
	int n = 0;

	while (len) {
		uint8_t *p;
		uint64_t l;

		if (n == max || dma_span(c, len, &p, &l))
			return -EFAULT;
		iov[n++] = (struct iovec){p, l};
		dma_advance(c, l);
		len -= l;
	}
	return n;
}
