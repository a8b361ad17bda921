/* SPDX-License-Identifier: MIT */
/*
 * The RoCEv2 Invariant CRC (IBA Annex A17.3.3, as Linux rxe computes it).
 *
 * ICRC = CRC-32 (the Ethernet/zlib one: reflected, polynomial 0x04C11DB7,
 * init 0xffffffff, final xor 0xffffffff) over
 *
 *   8 bytes of 0xff              stand-in for the masked IB LRH
 *   IP header, with the variant fields set to all ones:
 *     IPv4 (20 bytes, no options): TOS (DSCP+ECN), TTL, header checksum
 *     IPv6 (40 bytes, no ext hdrs): traffic class, flow label, hop limit
 *   UDP header, checksum set to all ones
 *   BTH, with resv8a (byte 4: FECN, BECN, reserved) set to all ones
 *   the extension headers, the payload and the pad bytes, unmasked
 *
 * and appended least significant byte first (as rxe writes it).
 * Everything else is covered: the IPv4 ID, total length, flags, protocol,
 * addresses, ports, UDP length. That is why the adapter writes its own
 * IP header (doc/wire.md).
 *
 * A running ICRC is an ordinary finished CRC-32: chain with
 * wire_icrc_update() and the result after the last byte is the ICRC.
 */
#ifndef CIOV_WIRE_ICRC_H
#define CIOV_WIRE_ICRC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/*
 * The ICRC over the masked pseudo header: the IP header at IP (version
 * from its first nibble), the UDP header and BTH after it, then the
 * extension headers up to IP + HDR_LEN. HDR_LEN must cover at least the
 * BTH (IP + 8 + 12 bytes); the caller has checked the buffer holds it.
 */
uint32_t wire_icrc_hdr(const void *ip, size_t hdr_len);

/*
 * The same pseudo header (the IP header at IP up to IP + HDR_LEN, masked),
 * written to PRE for wire_crc_copy_pre() / wire_crc_pre() so that the
 * header and the payload after it are one fold: zeros in front up to a
 * multiple of 16 bytes, the length returned. Start the CRC from
 * WIRE_ICRC_PRE_STATE (a zero state: PRE holds the initial one).
 * HDR_LEN at most WIRE_ICRC_PRE_MAX - 8.
 */
#define WIRE_ICRC_PRE_MAX 128
#define WIRE_ICRC_PRE_STATE 0xffffffffu
size_t wire_icrc_pre(uint8_t pre[WIRE_ICRC_PRE_MAX], const void *ip, size_t hdr_len);

/* Continue a running ICRC over LEN more bytes (payload, pad). */
uint32_t wire_icrc_update(uint32_t crc, const void *buf, size_t len);

/* Continue over a gather list. */
uint32_t wire_icrc_updatev(uint32_t crc, const struct iovec *iov, int iovcnt);

/* The whole ICRC of a contiguous packet: IP header up to (not incl.) the ICRC. */
uint32_t wire_icrc(const void *ip, size_t len);

/* Store / load an ICRC in wire order (least significant byte first). */
static inline void wire_icrc_store(void *p, uint32_t icrc)
{
	uint8_t *b = p;

	b[0] = (uint8_t)icrc;
	b[1] = (uint8_t)(icrc >> 8);
	b[2] = (uint8_t)(icrc >> 16);
	b[3] = (uint8_t)(icrc >> 24);
}

static inline uint32_t wire_icrc_load(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] | (uint32_t)b[1] << 8 |
		(uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

#endif
