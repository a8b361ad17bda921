/* SPDX-License-Identifier: MIT */
/*
 * Copy and CRC-32 in one pass: the ICRC of a payload computed while it is
 * staged (sender) or delivered (receiver), instead of memcpy then CRC.
 * The CRC is the one of wire_icrc_update() (ISA-L's crc32_gzip_refl, zlib
 * convention): pass 0 to start, pass the result back in to continue.
 */
#ifndef CIOV_WIRE_CRC_COPY_H
#define CIOV_WIRE_CRC_COPY_H

#include <stddef.h>
#include <stdint.h>

/* Copies LEN bytes from SRC to DST (they must not overlap) and returns the
 * running CRC-32 CRC (zlib convention, as crc32_gzip_refl) continued over
 * them. Any length and alignment; nothing outside DST[0..LEN) is written
 * and nothing outside SRC[0..LEN) is read. PCLMULQDQ when the CPU has it. */
uint32_t wire_crc_copy(uint32_t crc, void *dst, const void *src, size_t len);

/* The CRC continued over PRE (PRELEN bytes, a multiple of 16: read, not
 * copied) and then over SRC[0..LEN), copied to DST as wire_crc_copy()
 * does: a header and its payload in one fold, one final reduction (the
 * reduction is most of a short header's cost). */
uint32_t wire_crc_copy_pre(uint32_t crc, const void *pre, size_t prelen, void *dst,
			   const void *src, size_t len);

/* The same without a copy: the CRC continued over PRE then SRC. */
uint32_t wire_crc_pre(uint32_t crc, const void *pre, size_t prelen, const void *src, size_t len);

/* The same as memcpy then crc32_gzip_refl: the fallback, exposed for tests. */
uint32_t wire_crc_copy_generic(uint32_t crc, void *dst, const void *src, size_t len);

#endif
