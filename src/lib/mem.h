/* SPDX-License-Identifier: MIT */
/*
 * libciov memory: the endpoint's map of segments this process attached or
 * opened, sorted by iova (struct ciov_endpoint's mem).
 */
#ifndef CIOV_LIB_MEM_H
#define CIOV_LIB_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mem_seg_kind {
	MEM_SEG_BACKING, /* attached by ciov_reg_mr; lives as long as the endpoint */
	MEM_SEG_USER,	 /* ciov_attach_seg */
	MEM_SEG_OPENED,	 /* ciov_open_seg (native): mapped by the library */
};

struct mem_seg {
	uint64_t iova;
	uint64_t length;
	uint8_t *local; /* this process's address of iova, NULL if unknown */
	uint32_t handle;
	enum mem_seg_kind kind;
	int fd;	       /* BACKING: a dup of the memfd (see mem.c), else -1 */
	uint64_t file_off; /* BACKING: offset of iova in that memfd */
	int prot;      /* BACKING: the pages' protection */
	bool rebacked; /* BACKING: private memory this library re-backed */
};

/* Every map is also on a process-wide list, for the fork handler. */
struct mem_map {
	struct mem_seg *v; /* sorted by iova, disjoint (ciovd refuses overlap) */
	size_t n;
	size_t cap;
	struct mem_map *prev, *next;
};

#endif
