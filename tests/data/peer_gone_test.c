/* SPDX-License-Identifier: MIT */
/*
 * The responder goes away (IBA 9.7.6.1.3): when its QP is destroyed, or
 * its tenant dies, the requester's next WR gets no answer, is retried
 * retry_cnt times after the local ACK timeout, and completes with
 * RETRY_EXC_ERR -- after timeout * (retry_cnt + 1), not much later -- and
 * the WRs behind it flush. Nothing hangs.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"

#define BUF_LEN (2u << 20)
#define TIMEOUT 8   /* 4.096 us * 2^8 = 1.05 ms */
#define RETRY_CNT 2 /* => ~3.1 ms */
/* WRITEs of 1 MiB in flight when the responder dies: 1 GiB, tens of ms on
 * loopback, so that the kill lands mid-transfer (48 MiB finished within
 * the ~2 ms the kernel took to tear the process down). */
#define GONE2_WRS 1024

static const struct fx_conn short_timeout = {
	.access = CIOV_ACCESS_REMOTE_WRITE | CIOV_ACCESS_REMOTE_READ,
	.min_rnr_timer = 1,
	.rnr_retry = 7,
	.timeout = TIMEOUT,
	.retry_cnt = RETRY_CNT,
};

static double budget_ms(void)
{
	return 4.096e-3 * (1 << TIMEOUT) * (RETRY_CNT + 1);
}

/* Posts a WRITE and one behind it; checks RETRY_EXC_ERR in time, then flush. */
static void expect_retry_exc(struct fx_qp *qa, uint32_t rkey, uint64_t raddr)
{
	struct ciov_sge s = fx_sge(qa->t, 0, 4096);
	struct ciov_send_wr w2 = {.wr_id = 2, .opcode = CIOV_WR_RDMA_WRITE, .sg_list = &s,
				  .num_sge = 1, .wr.rdma = {raddr, rkey}};
	struct ciov_send_wr w1 = {.wr_id = 1, .opcode = CIOV_WR_RDMA_WRITE,
				  .send_flags = CIOV_SEND_SIGNALED, .sg_list = &s, .num_sge = 1,
				  .wr.rdma = {raddr, rkey}, .next = &w2};
	struct ciov_wc wc[2];
	double t0 = fx_now_ms(), dt;

	fx_post_send(qa, &w1);
	fx_wait(qa->scq, 1, wc, FX_TIMEOUT_MS);
	dt = fx_now_ms() - t0;
	fx_check_wc(&wc[0], 1, CIOV_WC_RETRY_EXC_ERR, 0);
	printf("%s: RETRY_EXC_ERR after %.2f ms (timeout*(retry_cnt+1) = %.2f ms)\n",
	       fx_mode_name(qa->t->mode), dt, budget_ms());
	if (dt < 0.9 * budget_ms() || dt > budget_ms() + 1000)
		fail_msg("RETRY_EXC_ERR after %.2f ms, want about %.2f", dt, budget_ms());
	fx_wait(qa->scq, 1, &wc[1], FX_TIMEOUT_MS);
	fx_check_wc(&wc[1], 2, CIOV_WC_WR_FLUSH_ERR, 0);
}

static void destroyed_responder_qp_makes_the_requester_retry_exc_err_in_time(void **state)
{
	(void)state;
	for (int m = 0; m < 2; m++) {
		struct fx_pair p;
		struct ciov_sge s;
		struct ciov_send_wr wr = {.wr_id = 9, .opcode = CIOV_WR_RDMA_WRITE,
					  .send_flags = CIOV_SEND_SIGNALED, .sg_list = &s, .num_sge = 1};
		struct ciov_wc wc;

		fx_pair_new(&p, "gone1", fx_modes[m], BUF_LEN, NULL);
		fx_connect_pair(&p.qa, &p.qb, &short_timeout);
		s = fx_sge(&p.a, 0, 4096);
		wr.wr.rdma.remote_addr = p.b.iova;
		wr.wr.rdma.rkey = p.b.mr->rkey;
		fx_post_send(&p.qa, &wr); /* connected: works */
		fx_wait(p.qa.scq, 1, &wc, FX_TIMEOUT_MS);
		fx_check_wc(&wc, 9, CIOV_WC_SUCCESS, CIOV_WC_OP_RDMA_WRITE);
		fx_qp_free(&p.qb);
		expect_retry_exc(&p.qa, p.b.mr->rkey, p.b.iova);
		fx_pair_free(&p);
	}
}

/* The responder is a child process, killed while 1 MiB WRITEs stream to it. */
static void responder_tenant_killed_mid_transfer_makes_the_requester_retry_exc_err(void **state)
{
	struct fx_tenant a;
	struct fx_qp qa;
	int to_child[2], to_parent[2];
	struct {
		uint8_t gid[16];
		uint32_t qpn, rkey;
		uint64_t iova;
	} info;
	uint32_t qpn;
	pid_t pid;
	int nfds0, nfds = -1, failed = 0, ok = 0;
	struct ciov_wc wc[64];
	struct ciov_sge s;
	struct fx_tenant peer;

	(void)state;
	fx_tenant_new(&a, "gone2-a", CIOV_MODE_PASSTHROUGH, BUF_LEN);
	fx_qp_new(&a, &(struct fx_qp_opts){.type = CIOV_QPT_RC, .depth = GONE2_WRS}, &qa);
	json_object_put(th_admin_ok(&fx_d, "{\"cmd\":\"endpoint.add\",\"name\":\"gone2-b\"}"));
	nfds0 = th_daemon_nfds(&fx_d);
	assert_int_equal(pipe(to_child), 0);
	assert_int_equal(pipe(to_parent), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* The responder: its own adapter handle, endpoint, memory, QP. */
		struct ciov_adapter *ad;
		struct ciov_endpoint *ep;
		struct ciov_endpoint_attr ea;
		struct ciov_pd *pd;
		struct ciov_cq *cq;
		struct ciov_qp *qp;
		struct ciov_mr *mr;
		struct fx_qp q;
		struct fx_tenant t = {0};
		void *buf = aligned_alloc(4096, BUF_LEN);
		struct ciov_qp_init_attr ia = {.qp_type = CIOV_QPT_RC,
					       .cap = {16, 16, 1, 1, 0}};

		if (!buf || ciov_adapter_open(NULL, &ad) || ciov_open_endpoint(ad, "gone2-b", &ep) ||
		    ciov_query_endpoint(ep, &ea) || ciov_alloc_pd(ep, &pd) ||
		    ciov_create_cq(ep, 64, NULL, NULL, &cq) ||
		    ciov_reg_mr(pd, buf, BUF_LEN, CIOV_ACCESS_ALL, &mr))
			_exit(2);
		ia.send_cq = ia.recv_cq = cq;
		if (ciov_create_qp(pd, &ia, &qp))
			_exit(3);
		memcpy(info.gid, ea.gid, 16);
		info.qpn = qp->qp_num;
		info.rkey = mr->rkey;
		info.iova = mr->iova;
		if (write(to_parent[1], &info, sizeof(info)) != sizeof(info) ||
		    read(to_child[0], &qpn, sizeof(qpn)) != sizeof(qpn))
			_exit(4);
		q = (struct fx_qp){.qp = qp};
		memcpy(t.gid, a.gid, 16);
		fx_connect(&q, &t, qpn, &short_timeout);
		if (write(to_parent[1], "r", 1) != 1)
			_exit(5);
		pause();
		_exit(0);
	}
	assert_int_equal(read(to_parent[0], &info, sizeof(info)), (ssize_t)sizeof(info));
	memset(&peer, 0, sizeof(peer));
	memcpy(peer.gid, info.gid, 16);
	fx_connect(&qa, &peer, info.qpn, &short_timeout);
	assert_int_equal(write(to_child[1], &qa.qp->qp_num, sizeof(qpn)), (ssize_t)sizeof(qpn));
	{
		char c;

		assert_int_equal(read(to_parent[0], &c, 1), 1);
	}
	/* GONE2_WRS WRITEs of 1 MiB, every 4th signaled, then the kill. */
	s = fx_sge(&a, 0, 1u << 20);
	for (int i = 0; i < GONE2_WRS; i++) {
		struct ciov_send_wr wr = {.wr_id = (uint64_t)i, .opcode = CIOV_WR_RDMA_WRITE,
					  .send_flags = i % 4 == 3 ? CIOV_SEND_SIGNALED : 0,
					  .sg_list = &s, .num_sge = 1,
					  .wr.rdma = {info.iova, info.rkey}};

		fx_post_send(&qa, &wr);
	}
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	/* Each WR completes: successes (signaled ones), then one
	 * RETRY_EXC_ERR, then flushes -- never anything else, never a hang. */
	for (int left = GONE2_WRS; left > 0;) {
		int n = fx_poll_for(qa.scq, 1, wc, FX_TIMEOUT_MS);

		if (n != 1)
			fail_msg("no completion; %d of %d WRs unaccounted", left, GONE2_WRS);
		if (wc[0].status == CIOV_WC_SUCCESS) {
			assert_false(failed);
			assert_int_equal(wc[0].wr_id % 4, 3);
			ok++;
			left = GONE2_WRS - (int)wc[0].wr_id - 1;
		} else if (!failed) {
			fx_check_wc(&wc[0], wc[0].wr_id, CIOV_WC_RETRY_EXC_ERR, 0);
			failed = 1;
			left = GONE2_WRS - (int)wc[0].wr_id - 1;
		} else {
			fx_check_wc(&wc[0], GONE2_WRS - (uint64_t)left, CIOV_WC_WR_FLUSH_ERR, 0);
			left--;
		}
	}
	printf("%d signaled WRITEs completed before the responder died\n", ok);
	assert_true(failed);
	/* ciovd reclaimed the dead tenant. */
	assert_int_equal(fx_usage("gone2-b", "qps", 0), 0);
	for (int i = 0; i < 200 && (nfds = th_daemon_nfds(&fx_d)) != nfds0; i++)
		usleep(10000);
	assert_int_equal(nfds, nfds0);
	fx_tenant_free(&a);
	json_object_put(th_admin_ok(&fx_d, "{\"cmd\":\"endpoint.del\",\"name\":\"gone2-b\"}"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(destroyed_responder_qp_makes_the_requester_retry_exc_err_in_time),
		cmocka_unit_test(responder_tenant_killed_mid_transfer_makes_the_requester_retry_exc_err),
	};

	return FX_RUN(tests);
}
