/* SPDX-License-Identifier: MIT */
/*
 * A table-driven codec between JSON objects and the fixed-layout structs of
 * abi.h. A struct is described once (struct codec_struct: its members'
 * JSON names, offsets, widths and formats); decode and encode walk that
 * table. The codec knows nothing about control operations.
 */
#ifndef CIOV_ADMIN_CODEC_H
#define CIOV_ADMIN_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/* How a member looks in JSON. */
enum codec_fmt {
	CF_UINT,   /* non-negative integer that fits the member's width */
	CF_BOOL,   /* true/false (or 0/1); stored as 0/1 */
	CF_ENUM,   /* one of .names (a numeric table takes the number itself) */
	CF_FLAGS,  /* a list of names from .names, or the number of their OR */
	CF_GID,    /* 16 bytes written as an IPv6 address ("fd00::1") */
	CF_STRUCT, /* a nested object described by .sub */
};

struct codec_name {
	const char *name; /* lowercase in JSON; matched case-insensitively */
	uint64_t value;
};

struct codec_names {
	const struct codec_name *v;
	uint32_t n;
	bool numeric; /* names are decimal numbers and JSON carries integers (MTU) */
};

struct codec_struct;

struct codec_field {
	const char *name; /* JSON member name (the C member's name) */
	uint32_t off;
	uint32_t size; /* bytes: 1, 2, 4, 8; 16 for CF_GID; the struct's for CF_STRUCT */
	enum codec_fmt fmt;
	bool required; /* decode fails when absent */
	const struct codec_names *names;
	const struct codec_struct *sub;
};

struct codec_struct {
	const char *name; /* the C struct, for messages */
	size_t size;
	const struct codec_field *f;
	uint32_t n;
};

/*
 * Field initializers. The width comes from the struct itself, so a table
 * cannot disagree with abi.h; a width the format cannot hold is a division
 * by zero in a constant expression, i.e. a build error.
 */
#define CODEC_MSIZE_(T, m) sizeof(((struct T *)0)->m)
#define CODEC_UINT_OK_(s) ((s) == 1 || (s) == 2 || (s) == 4 || (s) == 8)
#define CODEC_F_(T, m, fmt_, ok_, ...)                                         \
	{.name = #m, .off = offsetof(struct T, m),                             \
	 .size = (uint32_t)(CODEC_MSIZE_(T, m) / (ok_)), .fmt = fmt_, __VA_ARGS__}
#define CF_U(T, m, ...) CODEC_F_(T, m, CF_UINT, CODEC_UINT_OK_(CODEC_MSIZE_(T, m)), __VA_ARGS__)
#define CF_B(T, m, ...) CODEC_F_(T, m, CF_BOOL, CODEC_UINT_OK_(CODEC_MSIZE_(T, m)), __VA_ARGS__)
#define CF_E(T, m, tbl, ...)                                                   \
	CODEC_F_(T, m, CF_ENUM, CODEC_UINT_OK_(CODEC_MSIZE_(T, m)), .names = &(tbl), __VA_ARGS__)
#define CF_F(T, m, tbl, ...)                                                   \
	CODEC_F_(T, m, CF_FLAGS, CODEC_UINT_OK_(CODEC_MSIZE_(T, m)), .names = &(tbl), __VA_ARGS__)
#define CF_G(T, m, ...) CODEC_F_(T, m, CF_GID, CODEC_MSIZE_(T, m) == 16, __VA_ARGS__)
#define CF_S(T, m, ST, ...)                                                    \
	CODEC_F_(T, m, CF_STRUCT, CODEC_MSIZE_(T, m) == sizeof(struct ST), .sub = &cs_##ST,   \
		 __VA_ARGS__)
#define CF_REQ .required = true

/* Describes struct T as cs_T (static) with the given field array; an
 * opaque struct has no JSON form. */
#define CODEC_STRUCT(T, fields)                                                \
	static const struct codec_struct cs_##T = {#T, sizeof(struct T), fields,      \
					    sizeof(fields) / sizeof((fields)[0])}
#define CODEC_OPAQUE(T) static const struct codec_struct cs_##T = {#T, sizeof(struct T), NULL, 0}

#define CODEC_NAMES(arr) {arr, sizeof(arr) / sizeof((arr)[0]), false}
#define CODEC_NUMERIC_NAMES(arr) {arr, sizeof(arr) / sizeof((arr)[0]), true}

/*
 * Decodes the members of JSON object OBJ into BUF (S->size bytes, zeroed by
 * the caller) as S describes. Top-level members listed in SKIP (a
 * NULL-terminated list: the request's envelope) are ignored. Returns 0, or
 * -EINVAL with WHY set to a sentence that names the member and CTX (the
 * command): "unknown member 'x' for qp.create". BUF may be partly written
 * on failure.
 */
int codec_decode(const struct codec_struct *s, struct json_object *obj, void *buf,
		 const char *const *skip, const char *ctx, char *why, size_t wlen);

/* Adds S's members, read from BUF, to the JSON object OBJ. */
void codec_encode(const struct codec_struct *s, const void *buf, struct json_object *obj);

#endif
