// SPDX-License-Identifier: MIT
/* RoCEv2 ICRC on ISA-L's CRC-32 (crc32_gzip_refl: the zlib convention, so
 * crc32_gzip_refl(0, ...) is the standard CRC-32 and chaining continues it). */
#include <string.h>

#include <isa-l/crc.h>

#include "adapter/wire/crc_copy.h"
#include "adapter/wire/hdr.h"
#include "adapter/wire/icrc.h"
#include "adapter/wire/pkt.h"

#define LRH_STANDIN 8
#define IP4_BYTES 20
#define IP6_BYTES 40
#define UDP_BYTES 8

uint32_t wire_icrc_update(uint32_t crc, const void *buf, size_t len)
{
	return crc32_gzip_refl(crc, buf, len);
}

uint32_t wire_icrc_updatev(uint32_t crc, const struct iovec *iov, int iovcnt)
{
	for (int i = 0; i < iovcnt; i++)
		crc = crc32_gzip_refl(crc, iov[i].iov_base, iov[i].iov_len);
	return crc;
}

/* The masked pseudo header of wire_icrc_hdr(), laid out for a CRC from a
 * zero state: the initial state ~0 cancels the stand-in's first four 0xff
 * bytes, and zeros in front of a CRC from a zero state change nothing, so
 * the header is pushed to the end of a whole number of 16-byte blocks. */
_Static_assert(LRH_STANDIN + WIRE_HDR_MAX <= WIRE_ICRC_PRE_MAX,
	       "any packet's headers fit the pseudo header buffer");

size_t wire_icrc_pre(uint8_t pre[WIRE_ICRC_PRE_MAX], const void *ip, size_t hdr_len)
{
	const uint8_t *p = ip;
	size_t iplen = (p[0] >> 4) == 6 ? IP6_BYTES : IP4_BYTES;
	size_t len = (LRH_STANDIN + hdr_len + 15) & ~(size_t)15;
	uint8_t *q = pre + len - hdr_len, *udp = q + iplen, *bth = udp + UDP_BYTES;

	memset(pre, 0, len - hdr_len - LRH_STANDIN / 2);
	memset(q - LRH_STANDIN / 2, 0xff, LRH_STANDIN / 2);
	memcpy(q, p, hdr_len);
	if (iplen == IP4_BYTES) {
		q[1] = 0xff;                    /* TOS: DSCP + ECN */
		q[8] = 0xff;                    /* TTL */
		q[10] = q[11] = 0xff;           /* header checksum */
	} else {
		q[0] |= 0x0f;                   /* traffic class, high nibble */
		q[1] = q[2] = q[3] = 0xff;      /* traffic class low, flow label */
		q[7] = 0xff;                    /* hop limit */
	}
	udp[6] = udp[7] = 0xff;                 /* UDP checksum */
	bth[4] = 0xff;                          /* resv8a: FECN, BECN, reserved */
	return len;
}

uint32_t wire_icrc_hdr(const void *ip, size_t hdr_len)
{
	uint8_t pre[WIRE_ICRC_PRE_MAX];
	size_t n = wire_icrc_pre(pre, ip, hdr_len);

	return crc32_gzip_refl(WIRE_ICRC_PRE_STATE, pre, n);
}

uint32_t wire_icrc(const void *ip, size_t len)
{
	const uint8_t *p = ip;
	size_t n = ((p[0] >> 4) == 6 ? IP6_BYTES : IP4_BYTES) + UDP_BYTES + WIRE_BTH_BYTES;
	uint8_t pre[WIRE_ICRC_PRE_MAX];
	size_t pn = wire_icrc_pre(pre, ip, n);

	return wire_crc_pre(WIRE_ICRC_PRE_STATE, pre, pn, p + n, len - n);
}
