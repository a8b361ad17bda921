// SPDX-License-Identifier: MIT
/* RoCEv2 ICRC on ISA-L's CRC-32 (crc32_gzip_refl: the zlib convention, so
 * crc32_gzip_refl(0, ...) is the standard CRC-32 and chaining continues it). */
#include <string.h>

#include <isa-l/crc.h>

#include "adapter/wire/hdr.h"
#include "adapter/wire/icrc.h"

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

uint32_t wire_icrc_hdr(const void *ip, size_t hdr_len)
{
	uint8_t ps[LRH_STANDIN + IP6_BYTES + UDP_BYTES + WIRE_BTH_BYTES];
	const uint8_t *p = ip;
	size_t iplen = (p[0] >> 4) == 6 ? IP6_BYTES : IP4_BYTES;
	size_t n = iplen + UDP_BYTES + WIRE_BTH_BYTES;
	uint8_t *q = ps + LRH_STANDIN, *udp = q + iplen, *bth = udp + UDP_BYTES;
	uint32_t crc;

	memset(ps, 0xff, LRH_STANDIN);
	memcpy(q, p, n);
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
	crc = crc32_gzip_refl(0, ps, LRH_STANDIN + n);
	if (hdr_len > n)
		crc = crc32_gzip_refl(crc, p + n, hdr_len - n);
	return crc;
}

uint32_t wire_icrc(const void *ip, size_t len)
{
	const uint8_t *p = ip;
	size_t n = ((p[0] >> 4) == 6 ? IP6_BYTES : IP4_BYTES) + UDP_BYTES + WIRE_BTH_BYTES;

	return crc32_gzip_refl(wire_icrc_hdr(ip, n), p + n, len - n);
}
