/* SPDX-License-Identifier: MIT */
/*
 * Many QPs at once: 8 tenants (endpoints), 8 RC QPs each, paired tenant
 * 2k with 2k+1 QP by QP -- 64 QPs, 32 connections, 64 directions -- all
 * posting WRITE_WITH_IMM and SEND_WITH_IMM of varying sizes for a bounded
 * time, one thread per pair of tenants. Pairs mix the modes (passthrough,
 * native, and one of each). Every message is verified byte for byte where
 * it landed, every WR's completion is accounted for, in order, and every
 * direction made progress (the engine serves all QPs, not a few).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

#define TENANTS 8
#define QPS 8
#define WINDOW 4
#define MAXMSG (32u << 10)
#define RUN_MS 3000
#define BUF_LEN (4u << 20)

static const uint32_t msg_sizes[] = {1, 17, 512, 4095, 4096, 9000, MAXMSG};

struct dir {
	struct fx_tenant *st, *rt; /* sender, receiver */
	struct fx_qp *sq, *rq;
	size_t src, wdst, rdst; /* slot regions in the buffers */
	uint64_t id;
	uint64_t posted, sent, verified;
};

struct pair_run {
	int k;
	struct dir dir[2 * QPS];
	char err[256];
	uint64_t msgs, bytes;
};

static struct fx_tenant tenants[TENANTS];
static struct fx_qp qps[TENANTS][QPS];

static uint32_t size_of(const struct dir *d, uint64_t seq)
{
	return msg_sizes[(seq + d->id) % (sizeof(msg_sizes) / sizeof(msg_sizes[0]))];
}

static int post_one(struct pair_run *pr, struct dir *d)
{
	uint64_t seq = d->posted;
	uint32_t len = size_of(d, seq);
	size_t slot = (size_t)(seq % WINDOW) * MAXMSG;
	struct ciov_sge s = fx_sge(d->st, d->src + slot, len);
	struct ciov_sge r = fx_sge(d->rt, d->rdst + slot, MAXMSG);
	struct ciov_recv_wr rwr = {.wr_id = seq, .sg_list = &r, .num_sge = 1};
	struct ciov_send_wr wr = {.wr_id = seq, .send_flags = CIOV_SEND_SIGNALED,
				  .imm_data = (uint32_t)seq, .sg_list = &s, .num_sge = 1};
	int err;

	fx_fill(d->st->buf + d->src + slot, len, d->id << 32 | seq);
	if (seq & 1) {
		wr.opcode = CIOV_WR_SEND_WITH_IMM;
	} else {
		wr.opcode = CIOV_WR_RDMA_WRITE_WITH_IMM;
		wr.wr.rdma.remote_addr = d->rt->iova + d->wdst + slot;
		wr.wr.rdma.rkey = d->rt->mr->rkey;
	}
	err = ciov_post_recv(d->rq->qp, &rwr, NULL);
	if (!err)
		err = ciov_post_send(d->sq->qp, &wr, NULL);
	if (err) {
		snprintf(pr->err, sizeof(pr->err), "dir %llu seq %llu: post: %s",
			 (unsigned long long)d->id, (unsigned long long)seq, strerror(-err));
		return -1;
	}
	d->posted++;
	return 0;
}

static int on_send_wc(struct pair_run *pr, struct dir *d, const struct ciov_wc *wc)
{
	if (wc->status != CIOV_WC_SUCCESS || wc->wr_id != d->sent) {
		snprintf(pr->err, sizeof(pr->err), "dir %llu: send completion wr %llu %s, want wr %llu",
			 (unsigned long long)d->id, (unsigned long long)wc->wr_id,
			 ciov_wc_status_str(wc->status), (unsigned long long)d->sent);
		return -1;
	}
	d->sent++;
	return 0;
}

static int on_recv_wc(struct pair_run *pr, struct dir *d, const struct ciov_wc *wc, uint8_t *tmp)
{
	uint64_t seq = d->verified;
	uint32_t len = size_of(d, seq);
	size_t slot = (size_t)(seq % WINDOW) * MAXMSG;
	bool write = !(seq & 1);
	const uint8_t *got = d->rt->buf + (write ? d->wdst : d->rdst) + slot;

	if (wc->status != CIOV_WC_SUCCESS || wc->wr_id != seq || wc->imm_data != (uint32_t)seq ||
	    wc->byte_len != len ||
	    wc->opcode != (write ? CIOV_WC_OP_RECV_RDMA_WITH_IMM : CIOV_WC_OP_RECV)) {
		snprintf(pr->err, sizeof(pr->err),
			 "dir %llu: receive wr %llu %s imm %u len %u op %d, want seq %llu len %u",
			 (unsigned long long)d->id, (unsigned long long)wc->wr_id,
			 ciov_wc_status_str(wc->status), wc->imm_data, wc->byte_len, wc->opcode,
			 (unsigned long long)seq, len);
		return -1;
	}
	fx_fill(tmp, len, d->id << 32 | seq);
	if (memcmp(got, tmp, len)) {
		snprintf(pr->err, sizeof(pr->err), "dir %llu seq %llu: %u bytes differ from what was sent",
			 (unsigned long long)d->id, (unsigned long long)seq, len);
		return -1;
	}
	d->verified++;
	pr->msgs++;
	pr->bytes += len;
	return 0;
}

/* Polls every CQ of the pair once; -1 on an error. */
static int poll_pair(struct pair_run *pr, uint8_t *tmp)
{
	for (int i = 0; i < 2 * QPS; i++) {
		struct dir *d = &pr->dir[i];
		struct ciov_wc wc[16];
		int n = ciov_poll_cq(d->sq->scq, 16, wc);

		for (int j = 0; j < n; j++)
			if (on_send_wc(pr, d, &wc[j]))
				return -1;
		n = n < 0 ? n : ciov_poll_cq(d->rq->rcq, 16, wc);
		if (n < 0) {
			snprintf(pr->err, sizeof(pr->err), "poll_cq: %s", strerror(-n));
			return -1;
		}
		for (int j = 0; j < n; j++)
			if (on_recv_wc(pr, d, &wc[j], tmp))
				return -1;
	}
	return 0;
}

static void *pair_thread(void *arg)
{
	struct pair_run *pr = arg;
	uint8_t *tmp = malloc(MAXMSG);
	double end = fx_now_ms() + RUN_MS, drain_end = end + FX_TIMEOUT_MS;

	if (!tmp) {
		snprintf(pr->err, sizeof(pr->err), "out of memory");
		return NULL;
	}
	for (;;) {
		bool running = fx_now_ms() < end, busy = false;

		for (int i = 0; running && i < 2 * QPS; i++) {
			struct dir *d = &pr->dir[i];

			/* A slot is reused once its message was sent and verified. */
			while (d->posted - d->verified < WINDOW && d->posted - d->sent < WINDOW)
				if (post_one(pr, d))
					goto out;
		}
		if (poll_pair(pr, tmp))
			goto out;
		for (int i = 0; i < 2 * QPS; i++)
			busy |= pr->dir[i].verified != pr->dir[i].posted ||
				pr->dir[i].sent != pr->dir[i].posted;
		if (!running && !busy)
			break;
		if (fx_now_ms() > drain_end) {
			snprintf(pr->err, sizeof(pr->err), "completions missing %d ms after the end",
				 FX_TIMEOUT_MS);
			break;
		}
	}
out:
	free(tmp);
	return NULL;
}

static void sixty_four_qps_of_eight_tenants_move_verified_data_at_once(void **state)
{
	static const enum ciov_mode modes[TENANTS] = {
		CIOV_MODE_PASSTHROUGH, CIOV_MODE_PASSTHROUGH, CIOV_MODE_NATIVE, CIOV_MODE_NATIVE,
		CIOV_MODE_PASSTHROUGH, CIOV_MODE_NATIVE, CIOV_MODE_NATIVE, CIOV_MODE_PASSTHROUGH,
	};
	struct pair_run *pr = calloc(TENANTS / 2, sizeof(*pr));
	pthread_t th[TENANTS / 2];
	uint64_t msgs = 0, bytes = 0;
	double t0;

	(void)state;
	assert_non_null(pr);
	for (int t = 0; t < TENANTS; t++) {
		char name[32];

		snprintf(name, sizeof(name), "conc-%d", t);
		fx_tenant_new(&tenants[t], name, modes[t], BUF_LEN);
		for (int q = 0; q < QPS; q++)
			fx_qp_new(&tenants[t], &(struct fx_qp_opts){.type = CIOV_QPT_RC, .depth = 16},
				  &qps[t][q]);
	}
	for (int k = 0; k < TENANTS / 2; k++) {
		struct fx_tenant *a = &tenants[2 * k], *b = &tenants[2 * k + 1];

		pr[k].k = k;
		for (int q = 0; q < QPS; q++) {
			const size_t region = 3 * WINDOW * MAXMSG;

			fx_connect_pair(&qps[2 * k][q], &qps[2 * k + 1][q], NULL);
			pr[k].dir[2 * q] = (struct dir){
				.st = a, .rt = b, .sq = &qps[2 * k][q], .rq = &qps[2 * k + 1][q],
				.src = q * region, .wdst = q * region + WINDOW * MAXMSG,
				.rdst = q * region + 2 * WINDOW * MAXMSG, .id = (uint64_t)(k * 100 + 2 * q)};
			pr[k].dir[2 * q + 1] = (struct dir){
				.st = b, .rt = a, .sq = &qps[2 * k + 1][q], .rq = &qps[2 * k][q],
				.src = q * region, .wdst = q * region + WINDOW * MAXMSG,
				.rdst = q * region + 2 * WINDOW * MAXMSG,
				.id = (uint64_t)(k * 100 + 2 * q + 1)};
			assert_true((q + 1) * region <= BUF_LEN);
		}
	}
	t0 = fx_now_ms();
	for (int k = 0; k < TENANTS / 2; k++)
		assert_int_equal(pthread_create(&th[k], NULL, pair_thread, &pr[k]), 0);
	for (int k = 0; k < TENANTS / 2; k++)
		assert_int_equal(pthread_join(th[k], NULL), 0);
	for (int k = 0; k < TENANTS / 2; k++) {
		if (pr[k].err[0])
			fail_msg("pair %d: %s", k, pr[k].err);
		for (int i = 0; i < 2 * QPS; i++) {
			const struct dir *d = &pr[k].dir[i];

			/* Everything posted completed on both sides. */
			assert_int_equal(d->sent, d->posted);
			assert_int_equal(d->verified, d->posted);
			if (d->posted < 10)
				fail_msg("direction %llu moved only %llu messages in %d ms",
					 (unsigned long long)d->id, (unsigned long long)d->posted, RUN_MS);
		}
		msgs += pr[k].msgs;
		bytes += pr[k].bytes;
	}
	printf("%llu messages, %.1f MiB verified in %.0f ms over %d QPs\n",
	       (unsigned long long)msgs, (double)bytes / (1 << 20), fx_now_ms() - t0,
	       TENANTS * QPS);
	for (int t = 0; t < TENANTS; t++) {
		fx_no_cqe(qps[t][0].scq, 1);
		fx_tenant_free(&tenants[t]);
	}
	free(pr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sixty_four_qps_of_eight_tenants_move_verified_data_at_once),
	};

	return FX_RUN(tests);
}
