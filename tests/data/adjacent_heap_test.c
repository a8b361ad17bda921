/* SPDX-License-Identifier: MIT */
/*
 * Reproducer: two endpoints of one process register heap buffers that
 * share a page (malloc puts them next to each other). The second endpoint
 * attaches the shared page from the first one's memfd at a non-zero file
 * offset; when the first closes, the second inherits the page, and when
 * the second closes, libciov's mem_fini() remaps the page MAP_PRIVATE from
 * that memfd at offset 0 -- another page's bytes -- so the heap around the
 * buffers is corrupted (glibc aborts in free()).
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

static void adjacent_heap_buffers_keep_their_bytes_after_both_endpoints_close(void **state)
{
	const size_t len = 1u << 20;
	struct ciov_endpoint *ea, *eb;
	struct ciov_pd *pa, *pb;
	struct ciov_mr *ma, *mb;
	uint8_t *a, *b;

	(void)state;
	/* Heap, not mmap, for these sizes: the buffers are neighbours. */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	json_object_put(th_admin_ok(&fx_d, "{\"cmd\":\"endpoint.add\",\"name\":\"heap-a\"}"));
	json_object_put(th_admin_ok(&fx_d, "{\"cmd\":\"endpoint.add\",\"name\":\"heap-b\"}"));
	assert_int_equal(ciov_open_endpoint(fx_ad, "heap-a", &ea), 0);
	assert_int_equal(ciov_open_endpoint(fx_ad, "heap-b", &eb), 0);
	assert_int_equal(ciov_alloc_pd(ea, &pa), 0);
	assert_int_equal(ciov_alloc_pd(eb, &pb), 0);
	a = malloc(len);
	assert_non_null(a);
	memset(a, 0xaa, len);
	assert_int_equal(ciov_reg_mr(pa, a, len, CIOV_ACCESS_ALL, &ma), 0);
	b = malloc(len);
	assert_non_null(b);
	memset(b, 0xbb, len);
	assert_int_equal(ciov_reg_mr(pb, b, len, CIOV_ACCESS_ALL, &mb), 0);
	ciov_close_endpoint(ea);
	ciov_close_endpoint(eb);
	for (size_t i = 0; i < len; i++)
		if (a[i] != 0xaa || b[i] != 0xbb)
			fail_msg("byte %zu changed by closing the endpoints (a %#x b %#x)", i, a[i],
				 b[i]);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(adjacent_heap_buffers_keep_their_bytes_after_both_endpoints_close),
	};

	return FX_RUN(tests);
}
