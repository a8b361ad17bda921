/* SPDX-License-Identifier: MIT */
/*
 * Ordering (IBA 9.5, 10.8.3.2): on one RC QP an RDMA READ posted after a
 * WRITE to the same remote address returns what the WRITE wrote; a WR with
 * the fence flag after a READ starts only once the READ's data is in place,
 * so it sends the READ's result; and completions come back in posting
 * order whatever the opcodes and sizes (atomics on one counter return
 * 0, 1, 2, ... in order).
 */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

#define BUF_LEN (4u << 20)
#define MB (1u << 20)

static void read_after_write_to_the_same_address_sees_the_write(void **state)
{
	static const uint32_t sizes[] = {8, 4096, MB};

	(void)state;
	for (int m = 0; m < 2; m++) {
		struct fx_pair p;

		fx_pair_new(&p, "ord1", fx_modes[m], BUF_LEN, NULL);
		fx_connect_pair(&p.qa, &p.qb, NULL);
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			struct ciov_sge s = fx_sge(&p.a, 0, sizes[i]), d = fx_sge(&p.a, 2 * MB, sizes[i]);
			struct ciov_send_wr rd = {.wr_id = 2, .opcode = CIOV_WR_RDMA_READ,
						  .send_flags = CIOV_SEND_SIGNALED, .sg_list = &d,
						  .num_sge = 1, .wr.rdma = {p.b.iova + 77, p.b.mr->rkey}};
			struct ciov_send_wr wr = {.wr_id = 1, .opcode = CIOV_WR_RDMA_WRITE,
						  .sg_list = &s, .num_sge = 1,
						  .wr.rdma = {p.b.iova + 77, p.b.mr->rkey}, .next = &rd};
			struct ciov_wc wc;

			fx_fill(p.a.buf, BUF_LEN, i);
			fx_fill(p.b.buf, BUF_LEN, i + 100);
			fx_post_send(&p.qa, &wr); /* both at once */
			fx_wait(p.qa.scq, 1, &wc, FX_TIMEOUT_MS);
			fx_check_wc(&wc, 2, CIOV_WC_SUCCESS, CIOV_WC_OP_RDMA_READ);
			assert_memory_equal(p.a.buf + 2 * MB, p.a.buf, sizes[i]);
		}
		fx_pair_free(&p);
	}
}

static void fenced_wr_after_a_read_sends_the_read_result(void **state)
{
	static const uint32_t sizes[] = {64, MB};

	(void)state;
	for (int m = 0; m < 2; m++) {
		struct fx_pair p;

		fx_pair_new(&p, "ord2", fx_modes[m], BUF_LEN, NULL);
		fx_connect_pair(&p.qa, &p.qb, NULL);
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			uint32_t n = sizes[i];
			/* READ B[0,n) -> A[L); fenced SEND A[L) -> B[R); fenced WRITE A[L) -> B[W). */
			struct ciov_sge l = fx_sge(&p.a, MB, n), r = fx_sge(&p.b, 2 * MB, n);
			struct ciov_recv_wr rwr = {.wr_id = 9, .sg_list = &r, .num_sge = 1};
			struct ciov_send_wr w3 = {.wr_id = 3, .opcode = CIOV_WR_RDMA_WRITE,
						  .send_flags = CIOV_SEND_FENCE | CIOV_SEND_SIGNALED,
						  .sg_list = &l, .num_sge = 1,
						  .wr.rdma = {p.b.iova + 3 * MB, p.b.mr->rkey}};
			struct ciov_send_wr w2 = {.wr_id = 2, .opcode = CIOV_WR_SEND,
						  .send_flags = CIOV_SEND_FENCE, .sg_list = &l,
						  .num_sge = 1, .next = &w3};
			struct ciov_send_wr w1 = {.wr_id = 1, .opcode = CIOV_WR_RDMA_READ, .sg_list = &l,
						  .num_sge = 1, .wr.rdma = {p.b.iova, p.b.mr->rkey},
						  .next = &w2};
			struct ciov_wc wc;

			fx_fill(p.a.buf, BUF_LEN, i);
			fx_fill(p.b.buf, BUF_LEN, i + 100);
			fx_post_recv(&p.qb, &rwr);
			fx_post_send(&p.qa, &w1);
			fx_wait(p.qa.scq, 1, &wc, FX_TIMEOUT_MS);
			fx_check_wc(&wc, 3, CIOV_WC_SUCCESS, CIOV_WC_OP_RDMA_WRITE);
			fx_wait(p.qb.rcq, 1, &wc, FX_TIMEOUT_MS);
			fx_check_wc(&wc, 9, CIOV_WC_SUCCESS, CIOV_WC_OP_RECV);
			assert_memory_equal(p.b.buf + 2 * MB, p.b.buf, n); /* SEND carried it */
			assert_memory_equal(p.b.buf + 3 * MB, p.b.buf, n); /* WRITE too */
		}
		fx_pair_free(&p);
	}
}

static void completions_arrive_in_posting_order(void **state)
{
	enum { N = 48 };

	(void)state;
	for (int m = 0; m < 2; m++) {
		struct fx_pair p;
		struct ciov_sge s[N], r[N];
		struct ciov_send_wr wr[N];
		struct ciov_recv_wr rwr[N];
		struct ciov_wc wc[N];
		uint32_t len[N];
		size_t src_off[N], dst_off[N];
		int nrecv = 0, nfaa = 0;
		size_t so = 0, ro = 0;
		const size_t counter = 3 * MB + 512 * 1024; /* B: FAA target */

		fx_pair_new(&p, "ord3", fx_modes[m], BUF_LEN, &(struct fx_qp_opts){
			.type = CIOV_QPT_RC, .depth = N});
		fx_connect_pair(&p.qa, &p.qb, NULL);
		fx_fill(p.a.buf, BUF_LEN, 7);
		memset(p.b.buf + counter, 0, 8);
		for (int i = 0; i < N; i++) {
			int kind = i % 4; /* SEND, WRITE, READ, FAA */

			len[i] = (i % 12 == 5) ? MB / 2 : 1u + (uint32_t)(i * 977 % 6000);
			if (kind == 3)
				len[i] = 8;
			if (so + len[i] > 3 * MB)
				len[i] = 64;
			src_off[i] = so;
			s[i] = fx_sge(&p.a, kind == 2 || kind == 3 ? 3 * MB + 8 * (size_t)i : so,
				      len[i]);
			wr[i] = (struct ciov_send_wr){.wr_id = 1000u + (unsigned)i,
						      .send_flags = CIOV_SEND_SIGNALED,
						      .sg_list = &s[i], .num_sge = 1,
						      .next = i < N - 1 ? &wr[i + 1] : NULL};
			switch (kind) {
			case 0:
				wr[i].opcode = CIOV_WR_SEND;
				dst_off[i] = ro;
				r[nrecv] = fx_sge(&p.b, ro, len[i]);
				rwr[nrecv] = (struct ciov_recv_wr){.wr_id = (uint64_t)i,
								   .sg_list = &r[nrecv], .num_sge = 1};
				if (nrecv)
					rwr[nrecv - 1].next = &rwr[nrecv];
				nrecv++;
				ro += len[i];
				so += len[i];
				break;
			case 1:
				wr[i].opcode = CIOV_WR_RDMA_WRITE;
				wr[i].wr.rdma.remote_addr = p.b.iova + ro;
				wr[i].wr.rdma.rkey = p.b.mr->rkey;
				dst_off[i] = ro;
				ro += len[i];
				so += len[i];
				break;
			case 2:
				/* Reads 8 bytes of the counter: only valid in order. */
				len[i] = 8;
				s[i].length = 8;
				wr[i].opcode = CIOV_WR_RDMA_READ;
				wr[i].wr.rdma.remote_addr = p.b.iova + counter;
				wr[i].wr.rdma.rkey = p.b.mr->rkey;
				break;
			default:
				wr[i].opcode = CIOV_WR_ATOMIC_FETCH_AND_ADD;
				wr[i].wr.atomic.remote_addr = p.b.iova + counter;
				wr[i].wr.atomic.rkey = p.b.mr->rkey;
				wr[i].wr.atomic.compare_add = 1;
				break;
			}
		}
		fx_post_recv(&p.qb, rwr);
		fx_post_send(&p.qa, wr);
		fx_wait(p.qa.scq, N, wc, FX_TIMEOUT_MS);
		for (int i = 0; i < N; i++) {
			uint64_t v;

			if (wc[i].wr_id != 1000u + (unsigned)i || wc[i].status != CIOV_WC_SUCCESS)
				fail_msg("%s: completion %d is wr %llu %s", fx_mode_name(fx_modes[m]), i,
					 (unsigned long long)wc[i].wr_id, ciov_wc_status_str(wc[i].status));
			if (i % 4 == 0 || i % 4 == 1)
				assert_memory_equal(p.b.buf + dst_off[i], p.a.buf + src_off[i], len[i]);
			if (i % 4 >= 2) {
				/* READ i sees FAAs 3, 7, ... before it; FAA i returns their count. */
				memcpy(&v, p.a.buf + 3 * MB + 8 * (size_t)i, 8);
				assert_int_equal(v, (uint64_t)(i / 4));
				nfaa += i % 4 == 3;
			}
		}
		fx_wait(p.qb.rcq, nrecv, wc, FX_TIMEOUT_MS);
		for (int i = 0; i < nrecv; i++)
			assert_int_equal(wc[i].wr_id, (uint64_t)(4 * i));
		{
			uint64_t v;

			memcpy(&v, p.b.buf + counter, 8);
			assert_int_equal(v, (uint64_t)nfaa);
		}
		fx_pair_free(&p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(read_after_write_to_the_same_address_sees_the_write),
		cmocka_unit_test(fenced_wr_after_a_read_sends_the_read_result),
		cmocka_unit_test(completions_arrive_in_posting_order),
	};

	return FX_RUN(tests);
}
