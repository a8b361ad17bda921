/* SPDX-License-Identifier: MIT */
/*
 * The data-path matrix: every opcode (RC SEND, SEND_WITH_IMM, RDMA_WRITE,
 * RDMA_WRITE_WITH_IMM, RDMA_READ, ATOMIC_CMP_AND_SWP, ATOMIC_FETCH_AND_ADD;
 * UD SEND) x message size x SGE count x {signaled, unsignaled followed by a
 * signaled WR} x {passthrough, native}, between two tenants on one adapter.
 *
 * Each case fills the buffers with its own random pattern and checks, byte
 * for byte, the whole window around every place data may land: the message
 * arrived exactly where the SGEs / remote address say, and not one byte
 * around it changed. Completions are checked for wr_id, status, opcode,
 * byte_len, immediate data, flags and QP numbers (IBV semantics: a WRITE
 * with immediate consumes a receive WQE but not its buffers, and completes
 * it as RECV_RDMA_WITH_IMM with the length of the write; a UD receive has a
 * 40-byte GRH in front of the data).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

#define BUF_LEN (4u << 20)
#define SRC_OFF 0u		     /* where messages come from */
#define DST_OFF (2u << 20)	     /* where they land */
#define AUX_OFF (BUF_LEN - 4096u)    /* a WRITE_WITH_IMM's receive buffer */
#define AUX2_OFF (BUF_LEN - 8192u)   /* receive buffer of a UD follow-up */
#define AUX_LEN 64u
#define GRH 40u
#define WIN_EXTRA 8192u		     /* bytes of window beyond the message */

/* Around the fabric's path MTU (1024 by default) and the loopback's 4096. */
static const size_t sizes[] = {0, 1, 63, 1023, 1024, 1025, 4095, 4096, 4097, 65536, 1u << 20};

struct op_desc {
	const char *name;
	enum ciov_wr_opcode op;
	bool ud;
	enum ciov_wc_opcode wc_op;
};

static const struct op_desc ops[] = {
	{"SEND", CIOV_WR_SEND, false, CIOV_WC_OP_SEND},
	{"SEND_WITH_IMM", CIOV_WR_SEND_WITH_IMM, false, CIOV_WC_OP_SEND},
	{"RDMA_WRITE", CIOV_WR_RDMA_WRITE, false, CIOV_WC_OP_RDMA_WRITE},
	{"RDMA_WRITE_WITH_IMM", CIOV_WR_RDMA_WRITE_WITH_IMM, false, CIOV_WC_OP_RDMA_WRITE},
	{"RDMA_READ", CIOV_WR_RDMA_READ, false, CIOV_WC_OP_RDMA_READ},
	{"ATOMIC_CMP_AND_SWP", CIOV_WR_ATOMIC_CMP_AND_SWP, false, CIOV_WC_OP_COMP_SWAP},
	{"ATOMIC_FETCH_AND_ADD", CIOV_WR_ATOMIC_FETCH_AND_ADD, false, CIOV_WC_OP_FETCH_ADD},
	{"UD SEND", CIOV_WR_SEND, true, CIOV_WC_OP_SEND},
	{"UD SEND_WITH_IMM", CIOV_WR_SEND_WITH_IMM, true, CIOV_WC_OP_SEND},
};

struct piece {
	size_t off; /* in the tenant's buffer */
	uint32_t len;
};

struct ctx {
	struct fx_tenant a, b; /* requester, responder */
	struct fx_qp qa, qb;   /* RC */
	struct fx_qp ua, ub;   /* UD */
	uint8_t *snap_a, *snap_b, *exp_a, *exp_b;
	char desc[160];
	unsigned cases;
};

static void expect(struct ctx *c, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void expect(struct ctx *c, bool ok, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	if (ok)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	fail_msg("%s: %s", c->desc, why);
}

/* Splits LEN (+ SLACK in the last piece) into N pieces from BASE, with gaps
 * of different sizes between them; SKEW moves the split points so that the
 * two sides of a SEND do not split alike. */
static void layout(struct piece *p, int n, size_t base, size_t len, uint32_t slack, int skew)
{
	size_t off = base + 3 + (size_t)skew, prev = 0;

	for (int i = 0; i < n; i++) {
		size_t end = i == n - 1 ? len : len * (size_t)(i + 1) / (size_t)n;

		if (skew && i < n - 1 && end > len / (3 * (size_t)n))
			end -= len / (3 * (size_t)n);
		if (end < prev)
			end = prev;
		p[i].off = off;
		p[i].len = (uint32_t)(end - prev) + (i == n - 1 ? slack : 0);
		off += p[i].len + 61 + 13 * (size_t)i;
		prev = end;
	}
}

static void sges_of(const struct fx_tenant *t, const struct piece *p, int n, struct ciov_sge *s)
{
	for (int i = 0; i < n; i++)
		s[i] = fx_sge(t, p[i].off, p[i].len);
}

/* Copies LEN bytes of MSG into IMG (a copy of the buffer from offset
 * WBASE) along the pieces. */
static void scatter(uint8_t *img, size_t wbase, const struct piece *p, int n, const uint8_t *msg,
		    size_t len)
{
	for (int i = 0; i < n && len; i++) {
		size_t k = p[i].len < len ? p[i].len : len;

		memcpy(img + (p[i].off - wbase), msg, k);
		msg += k;
		len -= k;
	}
}

static void gather(const uint8_t *buf, const struct piece *p, int n, uint8_t *out, size_t len)
{
	for (int i = 0; i < n && len; i++) {
		size_t k = p[i].len < len ? p[i].len : len;

		memcpy(out, buf + p[i].off, k);
		out += k;
		len -= k;
	}
}

static void same_bytes(struct ctx *c, const char *where, const uint8_t *got, const uint8_t *want,
		       size_t n)
{
	if (memcmp(got, want, n) == 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (got[i] != want[i])
			expect(c, false, "%s: byte %zu of the window is %#x, want %#x", where, i,
			       got[i], want[i]);
}

static void setup_mode(struct ctx *c, enum ciov_mode mode)
{
	char na[32], nb[32];

	snprintf(na, sizeof(na), "mx-%s-a", fx_mode_name(mode));
	snprintf(nb, sizeof(nb), "mx-%s-b", fx_mode_name(mode));
	fx_tenant_new(&c->a, na, mode, BUF_LEN);
	fx_tenant_new(&c->b, nb, mode, BUF_LEN);
	fx_qp_new(&c->a, &(struct fx_qp_opts){.type = CIOV_QPT_RC}, &c->qa);
	fx_qp_new(&c->b, &(struct fx_qp_opts){.type = CIOV_QPT_RC}, &c->qb);
	fx_connect_pair(&c->qa, &c->qb, NULL);
	fx_qp_new(&c->a, &(struct fx_qp_opts){.type = CIOV_QPT_UD}, &c->ua);
	fx_qp_new(&c->b, &(struct fx_qp_opts){.type = CIOV_QPT_UD}, &c->ub);
	fx_connect_ud(&c->ua, &c->ub);
	fx_connect_ud(&c->ub, &c->ua);
	c->snap_a = malloc(DST_OFF);
	c->snap_b = malloc(DST_OFF);
	c->exp_a = malloc(DST_OFF);
	c->exp_b = malloc(DST_OFF);
	assert_true(c->snap_a && c->snap_b && c->exp_a && c->exp_b);
}

static void teardown_mode(struct ctx *c)
{
	fx_tenant_free(&c->a);
	fx_tenant_free(&c->b);
	free(c->snap_a);
	free(c->snap_b);
	free(c->exp_a);
	free(c->exp_b);
}

static void run_case(struct ctx *c, const struct op_desc *od, size_t len, int nsge, bool signaled)
{
	uint64_t seed = 0x5eed0000ull + c->cases++, rs = seed;
	struct fx_tenant *A = &c->a, *B = &c->b;
	struct fx_qp *qa = od->ud ? &c->ua : &c->qa, *qb = od->ud ? &c->ub : &c->qb;
	bool atomic = od->op == CIOV_WR_ATOMIC_CMP_AND_SWP || od->op == CIOV_WR_ATOMIC_FETCH_AND_ADD;
	bool imm = od->op == CIOV_WR_SEND_WITH_IMM || od->op == CIOV_WR_RDMA_WRITE_WITH_IMM;
	bool send = od->op == CIOV_WR_SEND || od->op == CIOV_WR_SEND_WITH_IMM;
	bool needs_recv = send || od->op == CIOV_WR_RDMA_WRITE_WITH_IMM;
	size_t win = len + GRH + WIN_EXTRA, mlen = od->ud ? len + GRH : len;
	struct piece lp[FX_MAX_SGE], rp[FX_MAX_SGE];
	struct ciov_sge ls[FX_MAX_SGE], rsg[FX_MAX_SGE], aux_sge, aux2_sge;
	struct ciov_send_wr wr, follow;
	struct ciov_recv_wr rwr, follow_r;
	struct ciov_wc swc[2], rwc[2];
	uint8_t aux_before[AUX_LEN];
	uint8_t *msg = malloc(mlen + 8);
	uint32_t imm_data = (uint32_t)fx_rand(&rs);
	uint64_t v0 = fx_rand(&rs), operand = fx_rand(&rs), swap = fx_rand(&rs);
	bool cas_match = (c->cases & 1) != 0;
	const size_t atomic_off = DST_OFF + 64; /* 8-aligned target */
	int nrecv;

	snprintf(c->desc, sizeof(c->desc), "%s %s len %zu sge %d %s", fx_mode_name(A->mode),
		 od->name, len, nsge, signaled ? "signaled" : "unsignaled+signaled");
	assert_non_null(msg);

	/* Fresh patterns everywhere data comes from or may land. */
	fx_fill(A->buf + SRC_OFF, win, seed);
	fx_fill(B->buf + SRC_OFF, win, seed ^ 1);
	fx_fill(A->buf + DST_OFF, win, seed ^ 2);
	fx_fill(B->buf + DST_OFF, win, seed ^ 3);
	fx_fill(B->buf + AUX_OFF, AUX_LEN, seed ^ 4);
	memcpy(aux_before, B->buf + AUX_OFF, AUX_LEN);
	if (atomic)
		memcpy(B->buf + atomic_off, &v0, 8);
	memcpy(c->snap_a, A->buf + DST_OFF, win);
	memcpy(c->snap_b, B->buf + DST_OFF, win);
	memcpy(c->exp_a, c->snap_a, win);
	memcpy(c->exp_b, c->snap_b, win);

	wr = (struct ciov_send_wr){
		.wr_id = 0x1000 + c->cases,
		.opcode = od->op,
		.send_flags = signaled ? CIOV_SEND_SIGNALED : 0,
		.imm_data = imm ? imm_data : 0,
		.sg_list = ls,
		.num_sge = nsge,
	};
	if (od->op == CIOV_WR_RDMA_READ) {
		/* Scattered into A's DST from B's SRC + 5. */
		layout(lp, nsge, DST_OFF, len, 0, 0);
		wr.wr.rdma.remote_addr = B->iova + SRC_OFF + 5;
		wr.wr.rdma.rkey = B->mr->rkey;
		memcpy(msg, B->buf + SRC_OFF + 5, len);
	} else if (atomic) {
		lp[0] = (struct piece){DST_OFF + 3, 8}; /* result: any alignment */
		wr.wr.atomic.remote_addr = B->iova + atomic_off;
		wr.wr.atomic.rkey = B->mr->rkey;
		wr.wr.atomic.compare_add = od->op == CIOV_WR_ATOMIC_CMP_AND_SWP
						   ? (cas_match ? v0 : v0 + 1) : operand;
		wr.wr.atomic.swap = swap;
	} else {
		layout(lp, nsge, SRC_OFF, len, 0, 0);
		gather(A->buf, lp, nsge, od->ud ? msg + GRH : msg, len);
		if (od->ud) {
			wr.wr.ud.ah = qa->ah;
			wr.wr.ud.remote_qpn = qb->qp->qp_num;
			wr.wr.ud.remote_qkey = FX_QKEY;
		} else {
			wr.wr.rdma.remote_addr = B->iova + DST_OFF + 5;
			wr.wr.rdma.rkey = B->mr->rkey;
		}
	}
	sges_of(A, lp, nsge, ls);

	/* The responder's receive WQEs. */
	nrecv = 0;
	if (send) {
		layout(rp, nsge, DST_OFF, mlen, 17, 1);
		sges_of(B, rp, nsge, rsg);
		rwr = (struct ciov_recv_wr){.wr_id = 0x5000 + c->cases, .sg_list = rsg,
					    .num_sge = nsge};
		nrecv = 1;
	} else if (needs_recv) {
		/* Its buffers must stay untouched. */
		aux_sge = fx_sge(B, AUX_OFF, AUX_LEN);
		rwr = (struct ciov_recv_wr){.wr_id = 0x5000 + c->cases, .sg_list = &aux_sge,
					    .num_sge = 1};
		nrecv = 1;
	}
	if (!signaled) {
		if (od->ud) {
			follow = (struct ciov_send_wr){.wr_id = 0x9000 + c->cases,
						       .opcode = CIOV_WR_SEND,
						       .send_flags = CIOV_SEND_SIGNALED};
			follow.wr.ud.ah = qa->ah;
			follow.wr.ud.remote_qpn = qb->qp->qp_num;
			follow.wr.ud.remote_qkey = FX_QKEY;
			aux2_sge = fx_sge(B, AUX2_OFF, AUX_LEN);
			follow_r = (struct ciov_recv_wr){.wr_id = 0x9000 + c->cases,
							 .sg_list = &aux2_sge, .num_sge = 1};
			if (nrecv)
				rwr.next = &follow_r;
			else
				rwr = follow_r;
			nrecv++;
		} else {
			/* Zero-length WRITE: needs no key (IBA 9.4.3). */
			follow = (struct ciov_send_wr){.wr_id = 0x9000 + c->cases,
						       .opcode = CIOV_WR_RDMA_WRITE,
						       .send_flags = CIOV_SEND_SIGNALED};
		}
		wr.next = &follow;
	}
	if (nrecv)
		fx_post_recv(qb, &rwr);
	fx_post_send(qa, &wr);

	/* Completions. */
	if (fx_poll_for(qa->scq, 1, swc, FX_TIMEOUT_MS) != 1)
		expect(c, false, "no send completion");
	expect(c, swc[0].status == CIOV_WC_SUCCESS, "send completion %s",
	       ciov_wc_status_str(swc[0].status));
	if (signaled) {
		expect(c, swc[0].wr_id == wr.wr_id, "send wr_id %#llx, want %#llx",
		       (unsigned long long)swc[0].wr_id, (unsigned long long)wr.wr_id);
		expect(c, swc[0].opcode == od->wc_op, "send opcode %d, want %d", swc[0].opcode,
		       od->wc_op);
		if (od->op == CIOV_WR_RDMA_READ)
			expect(c, swc[0].byte_len == len, "READ byte_len %u", swc[0].byte_len);
		if (atomic)
			expect(c, swc[0].byte_len == 8, "atomic byte_len %u", swc[0].byte_len);
	} else {
		/* The unsignaled WR produced nothing; the signaled one after it
		 * completing means it is done (IBA 10.8.6). */
		expect(c, swc[0].wr_id == follow.wr_id, "send wr_id %#llx, want the follow-up's %#llx",
		       (unsigned long long)swc[0].wr_id, (unsigned long long)follow.wr_id);
	}
	expect(c, swc[0].qp_num == qa->qp->qp_num, "send qp_num %u", swc[0].qp_num);
	if (nrecv) {
		if (fx_poll_for(qb->rcq, nrecv, rwc, FX_TIMEOUT_MS) != nrecv)
			expect(c, false, "missing receive completion");
		expect(c, rwc[0].status == CIOV_WC_SUCCESS, "receive completion %s",
		       ciov_wc_status_str(rwc[0].status));
		expect(c, rwc[0].qp_num == qb->qp->qp_num, "receive qp_num %u", rwc[0].qp_num);
	}
	if (needs_recv) {
		const struct ciov_wc *w = &rwc[0];

		expect(c, w->wr_id == 0x5000 + c->cases, "receive wr_id %#llx",
		       (unsigned long long)w->wr_id);
		expect(c, w->opcode == (send ? CIOV_WC_OP_RECV : CIOV_WC_OP_RECV_RDMA_WITH_IMM),
		       "receive opcode %d", w->opcode);
		expect(c, w->byte_len == mlen, "receive byte_len %u, want %zu", w->byte_len, mlen);
		expect(c, !!(w->wc_flags & CIOV_WC_WITH_IMM) == imm, "receive wc_flags %#x",
		       w->wc_flags);
		if (imm)
			expect(c, w->imm_data == imm_data, "imm_data %#x, want %#x", w->imm_data,
			       imm_data);
		expect(c, !!(w->wc_flags & CIOV_WC_GRH) == od->ud, "GRH flag %#x", w->wc_flags);
		if (od->ud)
			expect(c, w->src_qp == qa->qp->qp_num, "src_qp %u, want %u", w->src_qp,
			       qa->qp->qp_num);
	}
	if (od->ud && !signaled) {
		fx_check_wc(&rwc[nrecv - 1], follow.wr_id, CIOV_WC_SUCCESS, CIOV_WC_OP_RECV);
		expect(c, rwc[nrecv - 1].byte_len == GRH, "follow-up byte_len %u",
		       rwc[nrecv - 1].byte_len);
	}

	/* The bytes. */
	if (send) {
		if (od->ud) {
			uint8_t grh[GRH];

			gather(B->buf, rp, nsge, grh, GRH);
			expect(c, memcmp(grh + 8, A->gid, 16) == 0, "GRH SGID is not the sender's GID");
			expect(c, memcmp(grh + 24, B->gid, 16) == 0, "GRH DGID is not ours");
			memcpy(msg, grh, GRH);
		}
		scatter(c->exp_b, DST_OFF, rp, nsge, msg, mlen);
	} else if (od->op == CIOV_WR_RDMA_WRITE || od->op == CIOV_WR_RDMA_WRITE_WITH_IMM) {
		memcpy(c->exp_b + 5, msg, len);
	} else if (od->op == CIOV_WR_RDMA_READ) {
		scatter(c->exp_a, DST_OFF, lp, nsge, msg, len);
	} else if (atomic) {
		uint64_t after = od->op == CIOV_WR_ATOMIC_FETCH_AND_ADD ? v0 + operand
				 : cas_match ? swap : v0;

		memcpy(c->exp_b + 64, &after, 8);
		memcpy(c->exp_a + 3, &v0, 8); /* the original value comes back */
	}
	same_bytes(c, "responder", B->buf + DST_OFF, c->exp_b, win);
	same_bytes(c, "requester", A->buf + DST_OFF, c->exp_a, win);
	same_bytes(c, "receive buffer of WRITE_WITH_IMM", B->buf + AUX_OFF, aux_before, AUX_LEN);
	/* Nothing else completed. */
	expect(c, ciov_poll_cq(qa->scq, 2, swc) == 0, "an extra send completion");
	expect(c, ciov_poll_cq(qb->rcq, 2, rwc) == 0, "an extra receive completion");
	free(msg);
}

static void run_matrix(enum ciov_mode mode)
{
	struct ctx *c = calloc(1, sizeof(*c));
	double t0 = fx_now_ms();

	assert_non_null(c);
	setup_mode(c, mode);
	for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
		const struct op_desc *od = &ops[o];
		bool atomic = od->op == CIOV_WR_ATOMIC_CMP_AND_SWP ||
			      od->op == CIOV_WR_ATOMIC_FETCH_AND_ADD;

		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			/* Atomics move 8 bytes; UD messages fit one MTU. */
			if (atomic ? s != 0 : od->ud && sizes[s] > fx_ud_mtu())
				continue;
			/* Atomics: one 8-byte local buffer (IBA 9.4.5). */
			for (int g = 0; g < (atomic ? 1 : 2); g++)
				for (int sig = 1; sig >= 0; sig--)
					run_case(c, od, atomic ? 8 : sizes[s], g ? FX_MAX_SGE : 1,
						 sig);
		}
	}
	printf("%s: %u cases in %.0f ms\n", fx_mode_name(mode), c->cases, fx_now_ms() - t0);
	teardown_mode(c);
	free(c);
}

static void every_opcode_size_and_sge_count_moves_exact_bytes_passthrough(void **state)
{
	(void)state;
	run_matrix(CIOV_MODE_PASSTHROUGH);
}

static void every_opcode_size_and_sge_count_moves_exact_bytes_native(void **state)
{
	(void)state;
	run_matrix(CIOV_MODE_NATIVE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_opcode_size_and_sge_count_moves_exact_bytes_passthrough),
		cmocka_unit_test(every_opcode_size_and_sge_count_moves_exact_bytes_native),
	};

	return FX_RUN(tests);
}
