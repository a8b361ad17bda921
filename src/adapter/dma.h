/* SPDX-License-Identifier: MIT */
/*
 * The engine's data mover: copies between scatter/gather lists of I/O
 * addresses, each translated chunk by chunk through its endpoint's IOMMU
 * (and IOTLB), or a plain buffer (inline data, atomics).
 *
 * Callers check keys, PDs, bounds and access rights of every segment
 * before the first byte moves (IBA: a failed check touches no byte); a
 * translation fault during the copy can then only mean a bug, and is
 * reported as -EFAULT.
 */
#ifndef CIOV_DMA_H
#define CIOV_DMA_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

struct iommu;

struct dma_seg {
	uint64_t iova;
	uint64_t len;
};

struct dma_cursor {
	struct iommu *mmu;	    /* NULL: BUF is a buffer in ciovd */
	uint8_t *buf;
	const struct dma_seg *seg;  /* with mmu */
	uint32_t nseg;
	uint32_t i;		    /* current segment */
	uint64_t off;		    /* offset in it (or in buf) */
};

static inline void dma_cursor_sgl(struct dma_cursor *c, struct iommu *mmu,
				  const struct dma_seg *seg, uint32_t nseg)
{
	*c = (struct dma_cursor){.mmu = mmu, .seg = seg, .nseg = nseg};
}

static inline void dma_cursor_buf(struct dma_cursor *c, void *buf)
{
	*c = (struct dma_cursor){.buf = buf};
}

/* Copies LEN bytes from SRC to DST, advancing both. 0 or -EFAULT. */
int dma_copy(struct dma_cursor *dst, struct dma_cursor *src, uint64_t len);

/* As dma_copy, a packet of PKT bytes at a time, looking at STOP(ARG)
 * before each packet but the first: the bytes copied (at least one packet,
 * so that a copy always progresses), or -EFAULT. */
int64_t dma_copy_pkts(struct dma_cursor *dst, struct dma_cursor *src, uint64_t len,
		      uint64_t pkt, bool (*stop)(const void *arg), const void *arg);

/* Advances C by LEN bytes without copying (resuming a partial message). */
void dma_skip(struct dma_cursor *c, uint64_t len);

/* Describes the next LEN bytes at C as at most MAX host spans in IOV,
 * advancing C (payload gathered straight from memory). The number of
 * spans, or -EFAULT (a hole, or more than MAX spans). */
int dma_iov(struct dma_cursor *c, uint64_t len, struct iovec *iov, int max);

#endif
