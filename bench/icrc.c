// SPDX-License-Identifier: MIT
/*
 * ICRC throughput per core (ISA-L CRC-32 behind the RoCEv2 pseudo header)
 * against memcpy of the same payload, hot in cache, in the same run.
 * One JSON line per payload size. A payload larger than the 4096-byte
 * PMTU is a message: one ICRC (pseudo header + 4 KiB) per packet, as the
 * adapter would send it; "crc_gbps" is the bare CRC-32 over the buffer.
 * "crc_copy_gbps" is the fused copy + CRC-32 (wire_crc_copy) into a second
 * buffer, against "memcpy_then_crc_gbps": memcpy, then CRC-32 over the copy,
 * what the sender did before it (the receiver: the same two, swapped).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter/wire/crc_copy.h"
#include "adapter/wire/pkt.h"
#include "stats.h"

#define ROUNDS 7

static void clobber(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

/* Bytes per second of FN over LEN bytes: the median of ROUNDS runs. */
static double rate(size_t len, int which, uint8_t *hdr, size_t hlen,
		   uint8_t *src, uint8_t *dst, uint32_t *sink)
/* which: 0 memcpy, 1 ICRC per packet, 2 bare CRC-32, 3 crc_copy,
 * 4 memcpy then CRC-32 */
{
	double r[ROUNDS];
	long iters = (long)((64u << 20) / len) + 1;   /* ~64 MiB per round */

	for (int k = 0; k < ROUNDS; k++) {
		double t0 = now_us(), t;
		uint32_t acc = 0;

		for (long i = 0; i < iters; i++) {
			if (which == 1) {
				for (size_t off = 0; off < len; off += WIRE_PMTU_MAX) {
					size_t n = len - off < WIRE_PMTU_MAX ? len - off : WIRE_PMTU_MAX;
					uint32_t c = wire_icrc_hdr(hdr, hlen);

					acc ^= wire_icrc_update(c, src + off, n);
				}
			} else if (which == 2) {
				acc ^= wire_icrc_update(0, src, len);
			} else if (which == 3) {
				acc ^= wire_crc_copy(0, dst, src, len);
				clobber(dst);
			} else if (which == 4) {
				memcpy(dst, src, len);
				clobber(dst);
				acc ^= wire_icrc_update(0, dst, len);
			} else {
				memcpy(dst, src, len);
				clobber(dst);
			}
		}
		t = now_us() - t0;
		*sink ^= acc;
		r[k] = (double)len * (double)iters / (t * 1e-6);
	}
	return quantile(r, ROUNDS, 0.5);
}

int main(void)
{
	static const size_t sizes[] = { 1024, 4096, 65536 };
	uint8_t hdr[WIRE_HDR_MAX];
	struct wire_pkt_desc d = { 0 };
	uint8_t *src = malloc(65536), *dst = malloc(65536);
	uint32_t sink = 0;
	size_t hlen;

	if (!src || !dst)
		return 1;
	for (size_t i = 0; i < 65536; i++)
		src[i] = (uint8_t)(i * 31);
	memset(dst, 0, 65536);
	d.ip.family = AF_INET;
	d.bth.opcode = WIRE_OP_RC_RDMA_WRITE_MIDDLE;
	d.csum = WIRE_CSUM_NONE;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t len = sizes[s];
		size_t pkts = (len + WIRE_PMTU_MAX - 1) / WIRE_PMTU_MAX;
		size_t plen = len < WIRE_PMTU_MAX ? len : WIRE_PMTU_MAX;
		double icrc, cpy, crc, fused, seq;

		if (wire_pkt_hdr(hdr, sizeof(hdr), &d, plen, &hlen))
			return 1;
		cpy = rate(len, 0, hdr, hlen, src, dst, &sink);
		icrc = rate(len, 1, hdr, hlen, src, dst, &sink);
		crc = rate(len, 2, hdr, hlen, src, dst, &sink);
		fused = rate(len, 3, hdr, hlen, src, dst, &sink);
		seq = rate(len, 4, hdr, hlen, src, dst, &sink);
		printf("{\"bench\":\"icrc\",\"payload\":%zu,\"packets\":%zu,"
		       "\"icrc_gbps\":%.2f,\"crc_gbps\":%.2f,\"memcpy_gbps\":%.2f,"
		       "\"ratio\":%.3f,\"icrc_ns_per_pkt\":%.1f,"
		       "\"crc_copy_gbps\":%.2f,\"memcpy_then_crc_gbps\":%.2f}\n",
		       len, pkts, icrc / 1e9, crc / 1e9, cpy / 1e9, icrc / cpy,
		       (double)len / icrc * 1e9 / (double)pkts, fused / 1e9, seq / 1e9);
	}
	free(src);
	free(dst);
	return sink == 0x12345678;   /* keep SINK alive */
}
