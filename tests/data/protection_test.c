/* SPDX-License-Identifier: MIT */
/*
 * Memory protection on the data path (IBA 10.6.3, C9-88 / 9.7.4.1.5): a
 * remote access must match the R_Key (index and tag), the PD of the
 * responder QP, the MR's bounds (without wrapping past 2^64) and both the
 * MR's and the responder QP's access rights; a local SGE its L_Key, bounds
 * and LOCAL_WRITE where data lands. Every violation completes with its IB
 * status -- REM_ACCESS_ERR for remote keys, bounds and rights,
 * REM_INV_REQ_ERR for a misaligned atomic, LOC_PROT_ERR for a bad local
 * SGE -- the WRs behind it flush, and not one byte of either tenant's
 * memory changes. A control case next to the failures shows that the same
 * MR works when the access is right.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

#define BUF_LEN (1u << 20)
#define LOCAL_DST (512u << 10) /* requester: where READ / atomic results land */
#define ATOMIC_OFF (64u << 10) /* responder: 8-aligned atomic target */
#define SMALL_OFF 4096u	       /* responder MRs of one page each */
#define NOW_OFF 8192u
#define NOR_OFF 12288u
#define NOA_OFF 16384u
#define DEREG_OFF 20480u
#define PAGE 4096u
#define LOCAL_RO_OFF (768u << 10)

enum rkey_sel { R_MAIN, R_WRONG_TAG, R_OTHER_EP, R_OTHER_PD, R_SMALL, R_NOW, R_NOR, R_NOA, R_DEREG };
enum lkey_sel { L_MAIN, L_WRONG_TAG, L_OOB, L_NO_LOCAL_WRITE };

#define ALL_REMOTE (CIOV_ACCESS_REMOTE_WRITE | CIOV_ACCESS_REMOTE_READ | CIOV_ACCESS_REMOTE_ATOMIC)

struct pcase {
	const char *name;
	enum ciov_wr_opcode op;
	enum rkey_sel rkey;
	int64_t off; /* from the selected MR's start */
	bool abs;    /* ABS_ADDR instead */
	uint64_t abs_addr;
	uint32_t len;
	enum lkey_sel lkey;
	uint32_t qp_access; /* the responder QP's; 0 = everything */
	enum ciov_wc_status want;
};

static const struct pcase cases[] = {
	{"write inside a one-page MR succeeds (control)", CIOV_WR_RDMA_WRITE, R_SMALL, 0, false, 0,
	 PAGE, L_MAIN, 0, CIOV_WC_SUCCESS},
	{"read inside a one-page MR succeeds (control)", CIOV_WR_RDMA_READ, R_SMALL, 0, false, 0,
	 PAGE, L_MAIN, 0, CIOV_WC_SUCCESS},
	{"write with a wrong rkey tag", CIOV_WR_RDMA_WRITE, R_WRONG_TAG, 0, false, 0, 64, L_MAIN, 0,
	 CIOV_WC_REM_ACCESS_ERR},
	{"read with a wrong rkey tag", CIOV_WR_RDMA_READ, R_WRONG_TAG, 0, false, 0, 64, L_MAIN, 0,
	 CIOV_WC_REM_ACCESS_ERR},
	{"write with the rkey of another endpoint", CIOV_WR_RDMA_WRITE, R_OTHER_EP, 0, false, 0, 64,
	 L_MAIN, 0, CIOV_WC_REM_ACCESS_ERR},
	{"read with the rkey of another endpoint", CIOV_WR_RDMA_READ, R_OTHER_EP, 0, false, 0, 64,
	 L_MAIN, 0, CIOV_WC_REM_ACCESS_ERR},
	{"write with the rkey of another PD of the responder", CIOV_WR_RDMA_WRITE, R_OTHER_PD, 0,
	 false, 0, 64, L_MAIN, 0, CIOV_WC_REM_ACCESS_ERR},
	{"fetch-add with the rkey of another PD", CIOV_WR_ATOMIC_FETCH_AND_ADD, R_OTHER_PD,
	 ATOMIC_OFF, false, 0, 8, L_MAIN, 0, CIOV_WC_REM_ACCESS_ERR},
	{"write one byte past the MR's end", CIOV_WR_RDMA_WRITE, R_SMALL, 1, false, 0, PAGE, L_MAIN,
	 0, CIOV_WC_REM_ACCESS_ERR},
	{"write one byte longer than the MR", CIOV_WR_RDMA_WRITE, R_SMALL, 0, false, 0, PAGE + 1,
	 L_MAIN, 0, CIOV_WC_REM_ACCESS_ERR},
	{"write starting one byte before the MR", CIOV_WR_RDMA_WRITE, R_SMALL, -1, false, 0, 16,
	 L_MAIN, 0, CIOV_WC_REM_ACCESS_ERR},
	{"write starting at the MR's end", CIOV_WR_RDMA_WRITE, R_SMALL, PAGE, false, 0, 1, L_MAIN, 0,
	 CIOV_WC_REM_ACCESS_ERR},
	{"read one byte past the MR's end", CIOV_WR_RDMA_READ, R_SMALL, PAGE - 1, false, 0, 2,
	 L_MAIN, 0, CIOV_WC_REM_ACCESS_ERR},
	{"write wrapping past 2^64", CIOV_WR_RDMA_WRITE, R_MAIN, 0, true, UINT64_MAX - 15, 32, L_MAIN,
	 0, CIOV_WC_REM_ACCESS_ERR},
	{"read wrapping past 2^64", CIOV_WR_RDMA_READ, R_MAIN, 0, true, UINT64_MAX, 2, L_MAIN, 0,
	 CIOV_WC_REM_ACCESS_ERR},
	{"atomic at the last 8 bytes below 2^64", CIOV_WR_ATOMIC_FETCH_AND_ADD, R_MAIN, 0, true,
	 UINT64_MAX - 7, 8, L_MAIN, 0, CIOV_WC_REM_ACCESS_ERR},
	{"atomic just past the MR's end", CIOV_WR_ATOMIC_CMP_AND_SWP, R_SMALL, PAGE, false, 0, 8,
	 L_MAIN, 0, CIOV_WC_REM_ACCESS_ERR},
	{"write to an MR without REMOTE_WRITE", CIOV_WR_RDMA_WRITE, R_NOW, 0, false, 0, 64, L_MAIN,
	 0, CIOV_WC_REM_ACCESS_ERR},
	{"write-with-imm to an MR without REMOTE_WRITE", CIOV_WR_RDMA_WRITE_WITH_IMM, R_NOW, 0,
	 false, 0, 64, L_MAIN, 0, CIOV_WC_REM_ACCESS_ERR},
	{"read from an MR without REMOTE_READ", CIOV_WR_RDMA_READ, R_NOR, 0, false, 0, 64, L_MAIN, 0,
	 CIOV_WC_REM_ACCESS_ERR},
	{"atomic on an MR without REMOTE_ATOMIC", CIOV_WR_ATOMIC_FETCH_AND_ADD, R_NOA, 0, false, 0,
	 8, L_MAIN, 0, CIOV_WC_REM_ACCESS_ERR},
	{"read through a QP without REMOTE_READ", CIOV_WR_RDMA_READ, R_MAIN, 0, false, 0, 64, L_MAIN,
	 CIOV_ACCESS_REMOTE_WRITE | CIOV_ACCESS_REMOTE_ATOMIC, CIOV_WC_REM_ACCESS_ERR},
	{"write through a QP without REMOTE_WRITE", CIOV_WR_RDMA_WRITE, R_MAIN, 0, false, 0, 64,
	 L_MAIN, CIOV_ACCESS_REMOTE_READ | CIOV_ACCESS_REMOTE_ATOMIC, CIOV_WC_REM_ACCESS_ERR},
	{"atomic through a QP without REMOTE_ATOMIC", CIOV_WR_ATOMIC_CMP_AND_SWP, R_MAIN, ATOMIC_OFF,
	 false, 0, 8, L_MAIN, CIOV_ACCESS_REMOTE_WRITE | CIOV_ACCESS_REMOTE_READ,
	 CIOV_WC_REM_ACCESS_ERR},
	{"write to a deregistered MR", CIOV_WR_RDMA_WRITE, R_DEREG, 0, false, 0, 64, L_MAIN, 0,
	 CIOV_WC_REM_ACCESS_ERR},
	{"read from a deregistered MR", CIOV_WR_RDMA_READ, R_DEREG, 0, false, 0, 64, L_MAIN, 0,
	 CIOV_WC_REM_ACCESS_ERR},
	{"compare-swap at a misaligned address", CIOV_WR_ATOMIC_CMP_AND_SWP, R_MAIN, ATOMIC_OFF + 4,
	 false, 0, 8, L_MAIN, 0, CIOV_WC_REM_INV_REQ_ERR},
	{"fetch-add at a misaligned address", CIOV_WR_ATOMIC_FETCH_AND_ADD, R_MAIN, ATOMIC_OFF + 1,
	 false, 0, 8, L_MAIN, 0, CIOV_WC_REM_INV_REQ_ERR},
	{"write from an SGE with a wrong lkey", CIOV_WR_RDMA_WRITE, R_MAIN, 0, false, 0, 64,
	 L_WRONG_TAG, 0, CIOV_WC_LOC_PROT_ERR},
	{"write from an SGE past the local MR", CIOV_WR_RDMA_WRITE, R_MAIN, 0, false, 0, 64, L_OOB,
	 0, CIOV_WC_LOC_PROT_ERR},
	{"read into an MR without LOCAL_WRITE", CIOV_WR_RDMA_READ, R_MAIN, 0, false, 0, 64,
	 L_NO_LOCAL_WRITE, 0, CIOV_WC_LOC_PROT_ERR},
	{"atomic result into an MR without LOCAL_WRITE", CIOV_WR_ATOMIC_FETCH_AND_ADD, R_MAIN,
	 ATOMIC_OFF, false, 0, 8, L_NO_LOCAL_WRITE, 0, CIOV_WC_LOC_PROT_ERR},
};

struct keys {
	struct ciov_mr *other_pd, *small, *now, *nor, *noa, *local_ro;
	uint32_t other_ep_rkey, dereg_rkey;
};

static enum ciov_wc_opcode wc_op(enum ciov_wr_opcode op)
{
	switch (op) {
	case CIOV_WR_RDMA_READ:
		return CIOV_WC_OP_RDMA_READ;
	case CIOV_WR_ATOMIC_CMP_AND_SWP:
		return CIOV_WC_OP_COMP_SWAP;
	case CIOV_WR_ATOMIC_FETCH_AND_ADD:
		return CIOV_WC_OP_FETCH_ADD;
	case CIOV_WR_RDMA_WRITE:
	case CIOV_WR_RDMA_WRITE_WITH_IMM:
		return CIOV_WC_OP_RDMA_WRITE;
	default:
		return CIOV_WC_OP_SEND;
	}
}

static bool rkey_is_bs(const struct fx_tenant *b, const struct keys *k, uint32_t rkey)
{
	const struct ciov_mr *mrs[] = {b->mr, k->other_pd, k->small, k->now, k->nor, k->noa};

	for (size_t i = 0; i < sizeof(mrs) / sizeof(mrs[0]); i++)
		if (mrs[i]->rkey == rkey)
			return true;
	return false;
}

/* B's MRs for the cases, and keys that must not work. */
static void make_keys(struct fx_tenant *a, struct fx_tenant *b, struct fx_tenant *c, struct keys *k)
{
	const unsigned lw = CIOV_ACCESS_LOCAL_WRITE;
	uint32_t pd2_h;
	struct ciov_pd *pd2 = fx_pd_new(b, &pd2_h);
	struct ciov_mr *dereg;

	k->other_pd = fx_mr_new(b, pd2, pd2_h, 0, 64u << 10, CIOV_ACCESS_ALL);
	k->small = fx_mr_new(b, b->pd, b->pd_h, SMALL_OFF, PAGE, CIOV_ACCESS_ALL);
	k->now = fx_mr_new(b, b->pd, b->pd_h, NOW_OFF, PAGE,
			   lw | CIOV_ACCESS_REMOTE_READ | CIOV_ACCESS_REMOTE_ATOMIC);
	k->nor = fx_mr_new(b, b->pd, b->pd_h, NOR_OFF, PAGE,
			   lw | CIOV_ACCESS_REMOTE_WRITE | CIOV_ACCESS_REMOTE_ATOMIC);
	k->noa = fx_mr_new(b, b->pd, b->pd_h, NOA_OFF, PAGE,
			   lw | CIOV_ACCESS_REMOTE_WRITE | CIOV_ACCESS_REMOTE_READ);
	dereg = fx_mr_new(b, b->pd, b->pd_h, DEREG_OFF, PAGE, CIOV_ACCESS_ALL);
	k->dereg_rkey = dereg->rkey;
	fx_mr_free(b, dereg);
	/* The requester's MR without LOCAL_WRITE (READ / atomic results). */
	k->local_ro = fx_mr_new(a, a->pd, a->pd_h, LOCAL_RO_OFF, 64u << 10, CIOV_ACCESS_REMOTE_READ);
	/* A key of endpoint C: tags are 8 bits, so make sure it is not, by
	 * chance, the value of one of B's keys. */
	k->other_ep_rkey = c->mr->rkey;
	for (int i = 0; i < 16 && rkey_is_bs(b, k, k->other_ep_rkey); i++)
		k->other_ep_rkey = fx_mr_new(c, c->pd, c->pd_h, 0, PAGE, CIOV_ACCESS_ALL)->rkey;
	assert_false(rkey_is_bs(b, k, k->other_ep_rkey));
}

static void run_case(struct fx_tenant *a, struct fx_tenant *b, const struct keys *k,
		     const struct pcase *pc, uint8_t *snap_a, uint8_t *snap_b)
{
	struct fx_conn conn = fx_conn_default;
	struct fx_qp qa, qb;
	struct ciov_sge sge;
	struct ciov_send_wr wr = {.wr_id = 1, .opcode = pc->op, .send_flags = CIOV_SEND_SIGNALED,
				  .sg_list = &sge, .num_sge = 1, .imm_data = 7};
	struct ciov_send_wr behind = {.wr_id = 2, .opcode = CIOV_WR_RDMA_WRITE,
				      .send_flags = CIOV_SEND_SIGNALED};
	struct ciov_recv_wr rwr = {.wr_id = 3};
	struct ciov_wc wc[2];
	const struct ciov_mr *rmr = b->mr;
	uint32_t rkey;
	uint64_t raddr;
	bool read_like = pc->op == CIOV_WR_RDMA_READ || pc->op == CIOV_WR_ATOMIC_CMP_AND_SWP ||
			 pc->op == CIOV_WR_ATOMIC_FETCH_AND_ADD;

	switch (pc->rkey) {
	case R_SMALL: rmr = k->small; break;
	case R_NOW: rmr = k->now; break;
	case R_NOR: rmr = k->nor; break;
	case R_NOA: rmr = k->noa; break;
	case R_OTHER_PD: rmr = k->other_pd; break;
	default: break;
	}
	rkey = rmr->rkey;
	if (pc->rkey == R_WRONG_TAG)
		rkey ^= 0x5a; /* same index, another tag */
	else if (pc->rkey == R_OTHER_EP)
		rkey = k->other_ep_rkey;
	else if (pc->rkey == R_DEREG)
		rkey = k->dereg_rkey;
	raddr = pc->abs ? pc->abs_addr
		: pc->rkey == R_DEREG ? b->iova + DEREG_OFF + (uint64_t)pc->off
				      : rmr->iova + (uint64_t)pc->off;
	if (pc->op == CIOV_WR_ATOMIC_CMP_AND_SWP || pc->op == CIOV_WR_ATOMIC_FETCH_AND_ADD) {
		wr.wr.atomic.remote_addr = raddr;
		wr.wr.atomic.rkey = rkey;
		wr.wr.atomic.compare_add = 1;
		wr.wr.atomic.swap = 0xdead;
	} else {
		wr.wr.rdma.remote_addr = raddr;
		wr.wr.rdma.rkey = rkey;
	}
	sge = fx_sge(a, read_like ? LOCAL_DST : 0, pc->len);
	if (pc->lkey == L_WRONG_TAG)
		sge.lkey ^= 0x5a;
	else if (pc->lkey == L_OOB)
		sge.addr = a->iova + a->len - pc->len / 2;
	else if (pc->lkey == L_NO_LOCAL_WRITE)
		sge = (struct ciov_sge){k->local_ro->iova, pc->len, k->local_ro->lkey};
	wr.next = &behind;

	if (pc->qp_access)
		conn.access = pc->qp_access;
	fx_qp_new(a, &(struct fx_qp_opts){.type = CIOV_QPT_RC}, &qa);
	fx_qp_new(b, &(struct fx_qp_opts){.type = CIOV_QPT_RC}, &qb);
	fx_connect(&qa, b, qb.qp->qp_num, &conn);
	fx_connect(&qb, a, qa.qp->qp_num, &conn);
	fx_fill(a->buf, a->len, (uint64_t)(uintptr_t)pc);
	fx_fill(b->buf, b->len, (uint64_t)(uintptr_t)pc + 1);
	memcpy(snap_a, a->buf, a->len);
	memcpy(snap_b, b->buf, b->len);
	if (pc->op == CIOV_WR_RDMA_WRITE_WITH_IMM)
		fx_post_recv(&qb, &rwr);
	fx_post_send(&qa, &wr);

	fx_wait(qa.scq, 2, wc, FX_TIMEOUT_MS);
	if (wc[0].wr_id != 1 || wc[0].status != pc->want)
		fail_msg("%s (%s): completed %s, want %s", pc->name, fx_mode_name(a->mode),
			 ciov_wc_status_str(wc[0].status), ciov_wc_status_str(pc->want));
	assert_int_equal(wc[0].opcode, wc_op(pc->op));
	if (pc->want == CIOV_WC_SUCCESS) {
		fx_check_wc(&wc[1], 2, CIOV_WC_SUCCESS, CIOV_WC_OP_RDMA_WRITE);
		if (pc->op == CIOV_WR_RDMA_WRITE)
			memcpy(snap_b + (raddr - b->iova), snap_a, pc->len);
		else
			memcpy(snap_a + LOCAL_DST, snap_b + (raddr - b->iova), pc->len);
	} else {
		/* IBA 10.8.3: the QP is in error, what follows is flushed. */
		fx_check_wc(&wc[1], 2, CIOV_WC_WR_FLUSH_ERR, CIOV_WC_OP_RDMA_WRITE);
	}
	if (memcmp(a->buf, snap_a, a->len) || memcmp(b->buf, snap_b, b->len))
		fail_msg("%s (%s): memory changed by a %s", pc->name, fx_mode_name(a->mode),
			 pc->want == CIOV_WC_SUCCESS ? "successful access beyond its range"
						     : "failed access");
	fx_qp_free(&qa);
	fx_qp_free(&qb);
}

static void each_protection_violation_completes_with_its_status_and_touches_no_byte(void **state)
{
	(void)state;
	for (int m = 0; m < 2; m++) {
		struct fx_tenant a, b, c;
		struct keys k;
		uint8_t *snap_a = malloc(BUF_LEN), *snap_b = malloc(BUF_LEN);
		char n[3][32];

		assert_true(snap_a && snap_b);
		for (int i = 0; i < 3; i++)
			snprintf(n[i], sizeof(n[i]), "prot-%s-%c", fx_mode_name(fx_modes[m]), 'a' + i);
		fx_tenant_new(&a, n[0], fx_modes[m], BUF_LEN);
		fx_tenant_new(&b, n[1], fx_modes[m], BUF_LEN);
		fx_tenant_new(&c, n[2], fx_modes[m], BUF_LEN);
		make_keys(&a, &b, &c, &k);
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			run_case(&a, &b, &k, &cases[i], snap_a, snap_b);
		fx_tenant_free(&a);
		fx_tenant_free(&b);
		fx_tenant_free(&c);
		free(snap_a);
		free(snap_b);
	}
}

/* A SEND whose receive WQE has a bad lkey: the receive completes with
 * LOC_PROT_ERR, the sender learns REM_OP_ERR (IBA 9.9.3.1.3), no byte of
 * the receiver's memory changes. */
static void send_into_receive_buffer_with_bad_lkey_is_rem_op_err(void **state)
{
	(void)state;
	for (int m = 0; m < 2; m++) {
		struct fx_tenant a, b;
		struct fx_qp qa, qb;
		struct ciov_sge s, r;
		struct ciov_send_wr wr = {.wr_id = 1, .opcode = CIOV_WR_SEND,
					  .send_flags = CIOV_SEND_SIGNALED, .sg_list = &s, .num_sge = 1};
		struct ciov_recv_wr rwr = {.wr_id = 2, .sg_list = &r, .num_sge = 1};
		struct ciov_wc wc;
		uint8_t *snap = malloc(BUF_LEN);
		char na[32], nb[32];

		assert_non_null(snap);
		snprintf(na, sizeof(na), "prot2-%s-a", fx_mode_name(fx_modes[m]));
		snprintf(nb, sizeof(nb), "prot2-%s-b", fx_mode_name(fx_modes[m]));
		fx_tenant_new(&a, na, fx_modes[m], BUF_LEN);
		fx_tenant_new(&b, nb, fx_modes[m], BUF_LEN);
		fx_qp_new(&a, &(struct fx_qp_opts){.type = CIOV_QPT_RC}, &qa);
		fx_qp_new(&b, &(struct fx_qp_opts){.type = CIOV_QPT_RC}, &qb);
		fx_connect_pair(&qa, &qb, NULL);
		fx_fill(b.buf, b.len, 99);
		memcpy(snap, b.buf, b.len);
		s = fx_sge(&a, 0, 256);
		r = fx_sge(&b, 0, 256);
		r.lkey ^= 0x5a;
		fx_post_recv(&qb, &rwr);
		fx_post_send(&qa, &wr);
		fx_wait(qa.scq, 1, &wc, FX_TIMEOUT_MS);
		fx_check_wc(&wc, 1, CIOV_WC_REM_OP_ERR, CIOV_WC_OP_SEND);
		fx_wait(qb.rcq, 1, &wc, FX_TIMEOUT_MS);
		fx_check_wc(&wc, 2, CIOV_WC_LOC_PROT_ERR, CIOV_WC_OP_RECV);
		assert_memory_equal(b.buf, snap, b.len);
		fx_tenant_free(&a);
		fx_tenant_free(&b);
		free(snap);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(each_protection_violation_completes_with_its_status_and_touches_no_byte),
		cmocka_unit_test(send_into_receive_buffer_with_bad_lkey_is_rem_op_err),
	};

	return FX_RUN(tests);
}
