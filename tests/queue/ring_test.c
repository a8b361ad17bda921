/* SPDX-License-Identifier: MIT */
/* ciovd's ring helpers, directly: hostile indices, overflow, 2^32 wrap. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "adapter/ring.h"

#define ESZ 64u

struct tring {
	struct ring r;
	void *mem;
};

static void tring_init(struct tring *t, enum ciov_ring_kind kind, uint32_t entries)
{
	size_t n = ring_bytes(entries, ESZ);

	t->mem = aligned_alloc(4096, n);
	assert_non_null(t->mem);
	memset(t->mem, 0xa5, n); /* ring_init must not depend on zeroed memory */
	ring_init(&t->r, t->mem, kind, entries, ESZ, 7);
}

/* The tenant's side: writes entry VALUE at PROD and publishes PROD + 1. */
static void tenant_post(struct tring *t, uint32_t value)
{
	uint32_t prod = t->r.ctrl->prod;
	uint8_t *slot = t->r.slots + (size_t)(prod & t->r.mask) * ESZ;

	memset(slot, 0, ESZ);
	memcpy(slot, &value, sizeof(value));
	t->r.ctrl->prod = prod + 1;
}

static uint32_t first_word(const void *buf)
{
	uint32_t v;

	memcpy(&v, buf, sizeof(v));
	return v;
}

static void entries_are_next_power_of_two(void **state)
{
	assert_int_equal(ring_entries_for(0), 0);
	assert_int_equal(ring_entries_for(1), 1);
	assert_int_equal(ring_entries_for(3), 4);
	assert_int_equal(ring_entries_for(4), 4);
	assert_int_equal(ring_entries_for(1000), 1024);
	assert_int_equal(ring_entries_for(RING_MAX_ENTRIES), RING_MAX_ENTRIES);
	assert_int_equal(ring_entries_for(RING_MAX_ENTRIES + 1), 0);
	assert_int_equal(ring_entries_for(UINT32_MAX), 0);
}

static void ring_mem_is_sealed_against_resizing(void **state)
{
	struct ring_mem m;
	int seals;

	assert_int_equal(ring_mem_create(ring_bytes(16, ESZ), &m), 0);
	seals = fcntl(m.fd, F_GET_SEALS);
	assert_true(seals & F_SEAL_SHRINK);
	assert_true(seals & F_SEAL_GROW);
	assert_true(seals & F_SEAL_SEAL);
	assert_int_equal(ftruncate(m.fd, 0), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(fcntl(m.fd, F_ADD_SEALS, F_SEAL_WRITE), -1);
	ring_mem_destroy(&m);
	ring_mem_destroy(&m); /* idempotent */
}

static void init_writes_control_block(void **state)
{
	struct tring sq, cq;

	tring_init(&sq, CIOV_RING_SQ, 8);
	tring_init(&cq, CIOV_RING_CQ, 8);
	assert_int_equal(sq.r.ctrl->magic, CIOV_RING_MAGIC);
	assert_int_equal(sq.r.ctrl->version, CIOV_ABI_VERSION);
	assert_int_equal(sq.r.ctrl->kind, CIOV_RING_SQ);
	assert_int_equal(sq.r.ctrl->entries, 8);
	assert_int_equal(sq.r.ctrl->entry_size, ESZ);
	assert_int_equal(sq.r.ctrl->owner, 7);
	assert_int_equal(sq.r.ctrl->prod, 0);
	assert_int_equal(sq.r.ctrl->cons, 0);
	assert_int_equal(sq.r.ctrl->need_kick, 1); /* no engine watching yet */
	assert_int_equal(cq.r.ctrl->need_kick, 0);
	free(sq.mem);
	free(cq.mem);
}

static void peek_on_empty_ring_is_eagain(void **state)
{
	struct tring t;
	uint8_t buf[ESZ];

	tring_init(&t, CIOV_RING_SQ, 4);
	assert_int_equal(ring_peek(&t.r, buf), -EAGAIN);
	assert_int_equal(ring_pending(&t.r), 0);
	free(t.mem);
}

static void peek_copies_before_use_no_double_fetch(void **state)
{
	struct tring t;
	uint8_t buf[ESZ];
	uint8_t *slot;

	tring_init(&t, CIOV_RING_SQ, 4);
	tenant_post(&t, 0x1234);
	assert_int_equal(ring_peek(&t.r, buf), 0);
	/* The tenant rewrites the slot after the copy: the copy holds. */
	slot = t.r.slots;
	memset(slot, 0xff, ESZ);
	assert_int_equal(first_word(buf), 0x1234);
	ring_pop(&t.r);
	assert_int_equal(t.r.ctrl->cons, 1);
	free(t.mem);
}

static void prod_beyond_ring_marks_ring_error(void **state)
{
	struct tring t;
	uint8_t buf[ESZ];

	tring_init(&t, CIOV_RING_SQ, 4);
	t.r.ctrl->prod = 5; /* 5 published on a 4-entry ring */
	assert_int_equal(ring_peek(&t.r, buf), -EPROTO);
	assert_true(t.r.error);
	assert_int_equal(t.r.ctrl->error, 1);
	/* The tenant cannot undo it by fixing prod or clearing error. */
	t.r.ctrl->prod = 0;
	t.r.ctrl->error = 0;
	assert_int_equal(ring_peek(&t.r, buf), -EPROTO);
	free(t.mem);
}

static void prod_behind_cons_marks_ring_error(void **state)
{
	struct tring t;
	uint8_t buf[ESZ];

	tring_init(&t, CIOV_RING_SQ, 4);
	tenant_post(&t, 1);
	assert_int_equal(ring_peek(&t.r, buf), 0);
	ring_pop(&t.r);
	t.r.ctrl->prod = 0; /* moved backwards: 2^32 - 1 "published" */
	assert_int_equal(ring_peek(&t.r, buf), -EPROTO);
	assert_int_equal(ring_pending(&t.r), 0);
	free(t.mem);
}

static void garbage_indices_never_touch_memory_outside_ring(void **state)
{
	static const uint32_t garbage[] = {0x7fffffffu, 0x80000000u, 0xffffffffu, 0xdeadbeefu, 17};

	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		struct tring t;
		uint8_t buf[ESZ];

		tring_init(&t, CIOV_RING_SQ, 16);
		t.r.ctrl->prod = garbage[i];
		assert_int_equal(ring_peek(&t.r, buf), -EPROTO);
		free(t.mem);
	}
}

static void consumer_wraps_at_2_pow_32(void **state)
{
	struct tring t;
	uint8_t buf[ESZ];
	const uint32_t start = UINT32_MAX - 1;

	tring_init(&t, CIOV_RING_SQ, 4);
	t.r.idx = start;
	t.r.ctrl->prod = t.r.ctrl->cons = start;
	for (uint32_t v = 0; v < 4; v++)
		tenant_post(&t, 100 + v);
	assert_int_equal(t.r.ctrl->prod, 2); /* wrapped */
	assert_int_equal(ring_pending(&t.r), 4);
	for (uint32_t v = 0; v < 4; v++) {
		assert_int_equal(ring_peek(&t.r, buf), 0);
		assert_int_equal(first_word(buf), 100 + v);
		ring_pop(&t.r);
	}
	assert_int_equal(t.r.ctrl->cons, 2);
	assert_int_equal(ring_peek(&t.r, buf), -EAGAIN);
	free(t.mem);
}

static void push_fills_then_reports_overrun(void **state)
{
	struct tring t;
	uint8_t e[ESZ] = {0};

	tring_init(&t, CIOV_RING_CQ, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(ring_push(&t.r, e), 0);
	assert_int_equal(t.r.ctrl->prod, 4);
	assert_int_equal(ring_push(&t.r, e), -ENOSPC);
	assert_int_equal(t.r.ctrl->prod, 4);
	/* The tenant consumes two: room for two more. */
	t.r.ctrl->cons = 2;
	assert_int_equal(ring_push(&t.r, e), 0);
	assert_int_equal(ring_push(&t.r, e), 0);
	assert_int_equal(ring_push(&t.r, e), -ENOSPC);
	free(t.mem);
}

static void push_with_hostile_cons_marks_ring_error(void **state)
{
	struct tring t;
	uint8_t e[ESZ] = {0};

	tring_init(&t, CIOV_RING_CQ, 4);
	assert_int_equal(ring_push(&t.r, e), 0);
	t.r.ctrl->cons = 2; /* consumed more than was produced */
	assert_int_equal(ring_push(&t.r, e), -EPROTO);
	assert_int_equal(t.r.ctrl->error, 1);
	t.r.ctrl->cons = 1;
	assert_int_equal(ring_push(&t.r, e), -EPROTO); /* stays in error */
	free(t.mem);
}

static void producer_wraps_at_2_pow_32(void **state)
{
	struct tring t;
	uint8_t e[ESZ] = {0};
	const uint32_t start = UINT32_MAX;

	tring_init(&t, CIOV_RING_CQ, 2);
	t.r.idx = start;
	t.r.ctrl->prod = t.r.ctrl->cons = start;
	for (uint32_t v = 0; v < 6; v++) {
		memcpy(e, &v, sizeof(v));
		assert_int_equal(ring_push(&t.r, e), 0);
		/* The tenant reads it where prod - 1 masks to. */
		assert_int_equal(first_word(t.r.slots + (size_t)((t.r.ctrl->prod - 1) & 1) * ESZ),
				 v);
		t.r.ctrl->cons = t.r.ctrl->prod;
	}
	assert_int_equal(t.r.ctrl->prod, 5);
	free(t.mem);
}

static void reset_empties_ring_and_clears_error(void **state)
{
	struct tring t;
	uint8_t buf[ESZ];

	tring_init(&t, CIOV_RING_SQ, 4);
	t.r.ctrl->prod = 99;
	assert_int_equal(ring_peek(&t.r, buf), -EPROTO);
	ring_reset(&t.r);
	assert_false(t.r.error);
	assert_int_equal(t.r.ctrl->error, 0);
	assert_int_equal(t.r.ctrl->prod, 0);
	assert_int_equal(t.r.ctrl->cons, 0);
	assert_int_equal(ring_peek(&t.r, buf), -EAGAIN);
	tenant_post(&t, 5);
	assert_int_equal(ring_peek(&t.r, buf), 0);
	free(t.mem);
}

static void show_error_does_not_stop_consumer(void **state)
{
	struct tring t;
	uint8_t buf[ESZ];

	tring_init(&t, CIOV_RING_SQ, 4);
	tenant_post(&t, 5);
	ring_show_error(&t.r, true);
	assert_int_equal(t.r.ctrl->error, 1);
	assert_int_equal(ring_peek(&t.r, buf), 0); /* flushing still reads */
	free(t.mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(entries_are_next_power_of_two),
		cmocka_unit_test(ring_mem_is_sealed_against_resizing),
		cmocka_unit_test(init_writes_control_block),
		cmocka_unit_test(peek_on_empty_ring_is_eagain),
		cmocka_unit_test(peek_copies_before_use_no_double_fetch),
		cmocka_unit_test(prod_beyond_ring_marks_ring_error),
		cmocka_unit_test(prod_behind_cons_marks_ring_error),
		cmocka_unit_test(garbage_indices_never_touch_memory_outside_ring),
		cmocka_unit_test(consumer_wraps_at_2_pow_32),
		cmocka_unit_test(push_fills_then_reports_overrun),
		cmocka_unit_test(push_with_hostile_cons_marks_ring_error),
		cmocka_unit_test(producer_wraps_at_2_pow_32),
		cmocka_unit_test(reset_empties_ring_and_clears_error),
		cmocka_unit_test(show_error_does_not_stop_consumer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
