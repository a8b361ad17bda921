/* SPDX-License-Identifier: MIT */
/*
 * Hostile tenants against the data path. Child processes, each its own
 * endpoint, speak the raw tenant protocol (keeping the ring memfds) or use
 * libciov, and then:
 *  - fill their send queues with garbage: bogus opcodes, num_sge 255, huge
 *    lengths, SGEs and remote addresses pointing anywhere, a producer index
 *    far past the ring, a scribbled CQ consumer index;
 *  - storm their doorbell (100k writes);
 *  - try to truncate their memory and their rings, and punch holes into
 *    their memory while transfers run;
 *  - die in the middle of 1 MiB transfers (SIGKILL);
 *  - aim WRITEs with guessed keys at another tenant's connected QP.
 * Meanwhile a pair of well-behaved tenants moves data, verified byte for
 * byte. ciovd must keep serving them, still answer its admin socket, and
 * end with the fds it had before (nothing leaks); and it must exit 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/ring.h"
#include "fixture.h"

#define GOOD_LEN (4u << 20)
#define EVIL_LEN (4u << 20)
#define EVIL_IOVA 0x40000000ull
#define HOSTILE_MS 2500

/* ------------------------------------------------------------------------ */
/* A raw tenant: what a malicious process can build without libciov. */

struct raw_qp {
	uint32_t handle, qpn;
	uint8_t *map;
	size_t map_size;
	int fd;
	struct ciov_ring_ctrl *sq;
};

struct raw {
	int sock;
	struct ciov_ctl_open_rep info;
	int doorbell, async_fd, async_pipe;
	int memfd;
	uint8_t *mem;
	uint32_t pd, lkey, rkey;
	uint32_t cq;
	int cq_fd;
	struct ciov_ring_ctrl *cqc;
	struct raw_qp qp[2];
};

#define CHILD_CHECK(cond)                                                      \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "hostile child: %s failed (line %d)\n", #cond, __LINE__); \
			_exit(2);                                              \
		}                                                              \
	} while (0)

static int raw(struct raw *r, unsigned op, const void *rq, size_t rql, void *rp, size_t rpl,
	       const int *fin, int nfin, int *fout, int maxout)
{
	int n;

	return fx_raw_call(r->sock, op, rq, rql, rp, rpl, fin, nfin, fout, maxout, &n);
}

static void raw_modify_rts(struct raw *r, struct raw_qp *q, const uint8_t gid[16], uint32_t dest)
{
	struct ciov_ctl_qp_modify_req m = {.handle = q->handle};
	struct ciov_ctl_none n;

	m.attr.qp_state = CIOV_QPS_RESET;
	m.mask = CIOV_QP_STATE;
	raw(r, CIOV_CTL_QP_MODIFY, &m, sizeof(m), &n, sizeof(n), NULL, 0, NULL, 0);
	m.attr.qp_state = CIOV_QPS_INIT;
	m.attr.port_num = 1;
	m.attr.qp_access_flags = CIOV_ACCESS_REMOTE_WRITE | CIOV_ACCESS_REMOTE_READ;
	m.mask = CIOV_QP_STATE | CIOV_QP_PKEY_INDEX | CIOV_QP_PORT | CIOV_QP_ACCESS_FLAGS;
	CHILD_CHECK(raw(r, CIOV_CTL_QP_MODIFY, &m, sizeof(m), &n, sizeof(n), NULL, 0, NULL, 0) == 0);
	m.attr.qp_state = CIOV_QPS_RTR;
	m.attr.path_mtu = CIOV_MTU_4096;
	m.attr.dest_qp_num = dest;
	memcpy(m.attr.ah_attr.dgid, gid, 16);
	m.attr.ah_attr.port_num = 1;
	m.attr.max_dest_rd_atomic = 4;
	m.attr.min_rnr_timer = 1;
	m.mask = CIOV_QP_STATE | CIOV_QP_AV | CIOV_QP_PATH_MTU | CIOV_QP_DEST_QPN | CIOV_QP_RQ_PSN |
		 CIOV_QP_MAX_DEST_RD_ATOMIC | CIOV_QP_MIN_RNR_TIMER;
	CHILD_CHECK(raw(r, CIOV_CTL_QP_MODIFY, &m, sizeof(m), &n, sizeof(n), NULL, 0, NULL, 0) == 0);
	m.attr.qp_state = CIOV_QPS_RTS;
	m.attr.timeout = 10;
	m.attr.retry_cnt = 1;
	m.attr.rnr_retry = 1;
	m.attr.max_rd_atomic = 4;
	m.mask = CIOV_QP_STATE | CIOV_QP_SQ_PSN | CIOV_QP_TIMEOUT | CIOV_QP_RETRY_CNT |
		 CIOV_QP_RNR_RETRY | CIOV_QP_MAX_QP_RD_ATOMIC;
	CHILD_CHECK(raw(r, CIOV_CTL_QP_MODIFY, &m, sizeof(m), &n, sizeof(n), NULL, 0, NULL, 0) == 0);
}

/* Opens NAME, attaches EVIL_LEN bytes, registers them, makes a CQ and two
 * RC QPs connected to each other. */
static void raw_setup(struct raw *r, const struct th_daemon *d, const char *name)
{
	struct ciov_ctl_open_req o = {.abi = CIOV_ABI_VERSION};
	struct ciov_ctl_seg_attach_req sa = {.iova = EVIL_IOVA, .length = EVIL_LEN};
	struct ciov_ctl_seg_rep srep;
	struct ciov_ctl_none none = {0};
	struct ciov_ctl_handle h;
	struct ciov_ctl_mr_reg_req mr = {.access = CIOV_ACCESS_ALL, .iova = EVIL_IOVA,
					 .length = EVIL_LEN};
	struct ciov_ctl_mr_rep mrep;
	struct ciov_ctl_cq_create_req cq = {.cqe = 256};
	struct ciov_ctl_cq_rep cqrep;
	int fds[3];

	memset(r, 0, sizeof(*r));
	r->sock = th_tenant_connect(d);
	CHILD_CHECK(r->sock >= 0);
	snprintf(o.name, sizeof(o.name), "%s", name);
	CHILD_CHECK(raw(r, CIOV_CTL_OPEN, &o, sizeof(o), &r->info, sizeof(r->info), NULL, 0, fds,
			3) == 0);
	r->doorbell = fds[0];
	r->async_fd = fds[1];
	r->async_pipe = fds[2];
	fcntl(r->doorbell, F_SETFL, O_NONBLOCK);
	r->memfd = memfd_create("evil", MFD_ALLOW_SEALING);
	CHILD_CHECK(r->memfd >= 0 && ftruncate(r->memfd, EVIL_LEN) == 0 &&
		    fcntl(r->memfd, F_ADD_SEALS, F_SEAL_SHRINK) == 0);
	r->mem = mmap(NULL, EVIL_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, r->memfd, 0);
	CHILD_CHECK(r->mem != MAP_FAILED);
	CHILD_CHECK(raw(r, CIOV_CTL_SEG_ATTACH, &sa, sizeof(sa), &srep, sizeof(srep), &r->memfd, 1,
			NULL, 0) == 0);
	CHILD_CHECK(raw(r, CIOV_CTL_PD_ALLOC, &none, sizeof(none), &h, sizeof(h), NULL, 0, NULL,
			0) == 0);
	r->pd = mr.pd = h.handle;
	CHILD_CHECK(raw(r, CIOV_CTL_MR_REG, &mr, sizeof(mr), &mrep, sizeof(mrep), NULL, 0, NULL,
			0) == 0);
	r->lkey = mrep.lkey;
	r->rkey = mrep.rkey;
	CHILD_CHECK(raw(r, CIOV_CTL_CQ_CREATE, &cq, sizeof(cq), &cqrep, sizeof(cqrep), NULL, 0,
			&r->cq_fd, 1) == 0);
	r->cq = cqrep.handle;
	{
		uint8_t *m = mmap(NULL, cqrep.map_size, PROT_READ | PROT_WRITE, MAP_SHARED, r->cq_fd, 0);

		CHILD_CHECK(m != MAP_FAILED);
		r->cqc = (struct ciov_ring_ctrl *)(m + cqrep.ring_offset);
	}
	for (int i = 0; i < 2; i++) {
		struct ciov_ctl_qp_create_req q = {
			.pd = r->pd, .qp_type = CIOV_QPT_RC, .send_cq = r->cq, .recv_cq = r->cq,
			.sq_sig_all = 1, .cap = {16, 16, 4, 4, 0}};
		struct ciov_ctl_qp_rep rep;

		CHILD_CHECK(raw(r, CIOV_CTL_QP_CREATE, &q, sizeof(q), &rep, sizeof(rep), NULL, 0,
				&r->qp[i].fd, 1) == 0);
		r->qp[i].handle = rep.handle;
		r->qp[i].qpn = rep.qpn;
		r->qp[i].map_size = rep.map_size;
		r->qp[i].map = mmap(NULL, rep.map_size, PROT_READ | PROT_WRITE, MAP_SHARED,
				    r->qp[i].fd, 0);
		CHILD_CHECK(r->qp[i].map != MAP_FAILED);
		r->qp[i].sq = (struct ciov_ring_ctrl *)(r->qp[i].map + rep.sq_offset);
	}
	raw_modify_rts(r, &r->qp[0], r->info.gid, r->qp[1].qpn);
	raw_modify_rts(r, &r->qp[1], r->info.gid, r->qp[0].qpn);
}

static void kick(struct raw *r)
{
	char b = 1;

	(void)!write(r->doorbell, &b, 1);
}

/* Publishes N send WQEs built by FILL at the producer index. */
static void raw_post(struct raw *r, struct raw_qp *q, int n,
		     void (*fill)(struct raw *r, uint8_t *slot, uint32_t size, uint64_t *rs),
		     uint64_t *rs)
{
	struct ciov_ring_ctrl *c = q->sq;
	uint32_t entries = c->entries, esize = c->entry_size;
	uint32_t prod = ring_load_relaxed(&c->prod);

	if (!entries || (entries & (entries - 1)) || esize < 64 || esize > 4096)
		return;
	for (int i = 0; i < n; i++, prod++)
		fill(r, (uint8_t *)(c + 1) + (size_t)(prod & (entries - 1)) * esize, esize, rs);
	ring_store_release(&c->prod, prod);
	kick(r);
}

static void fill_garbage(struct raw *r, uint8_t *slot, uint32_t size, uint64_t *rs)
{
	struct ciov_send_wqe w;
	struct ciov_sge *sge = (struct ciov_sge *)(slot + sizeof(w));
	uint32_t nsge = (size - (uint32_t)sizeof(w)) / (uint32_t)sizeof(*sge);

	fx_fill(slot, size, fx_rand(rs));
	memcpy(&w, slot, sizeof(w));
	switch (fx_rand(rs) % 4) {
	case 0: /* bogus opcode, everything else random */
		break;
	case 1: /* more SGEs than any ring holds */
		w.opcode = (uint8_t)(fx_rand(rs) % CIOV_WR_MAX);
		w.num_sge = 255;
		w.flags &= (uint8_t)~CIOV_SEND_INLINE;
		break;
	default: /* plausible opcode, SGEs with our key pointing anywhere */
		w.opcode = (uint8_t)(fx_rand(rs) % CIOV_WR_MAX);
		w.num_sge = (uint8_t)(1 + fx_rand(rs) % nsge);
		w.flags = CIOV_SEND_SIGNALED;
		w.rkey = fx_rand(rs) & 1 ? r->rkey : (uint32_t)fx_rand(rs);
		w.remote_addr = fx_rand(rs) & 1 ? EVIL_IOVA + EVIL_LEN - 8 : fx_rand(rs);
		for (uint32_t i = 0; i < w.num_sge && i < nsge; i++) {
			sge[i].lkey = fx_rand(rs) & 3 ? r->lkey : (uint32_t)fx_rand(rs);
			sge[i].length = fx_rand(rs) & 1 ? 0xffffffffu : (uint32_t)(fx_rand(rs) % 65536);
			sge[i].addr = fx_rand(rs) & 1 ? EVIL_IOVA - 1 + fx_rand(rs) % 3 : fx_rand(rs);
		}
		break;
	}
	memcpy(slot, &w, sizeof(w));
}

static void fill_big_write(struct raw *r, uint8_t *slot, uint32_t size, uint64_t *rs)
{
	struct ciov_send_wqe w = {.opcode = CIOV_WR_RDMA_WRITE, .num_sge = 1,
				  .flags = CIOV_SEND_SIGNALED,
				  .remote_addr = EVIL_IOVA + EVIL_LEN / 2, .rkey = r->rkey};
	struct ciov_sge s = {EVIL_IOVA, EVIL_LEN / 2, r->lkey};

	memcpy(slot, &w, sizeof(w));
	memcpy(slot + sizeof(w), &s, sizeof(s));
	(void)size;
	(void)rs;
}

static void drain_cq(struct raw *r)
{
	/* Consume everything ciovd wrote (or claim to, wildly, sometimes). */
	ring_store_release(&r->cqc->cons, ring_load_acquire(&r->cqc->prod));
}

/* The scribbler: garbage, storms, truncation, hole punching. */
static void scribbler(const struct th_daemon *d, const char *name)
{
	struct raw r;
	uint64_t rs = (uint64_t)getpid();
	double end;
	int round = 0;

	raw_setup(&r, d, name);
	end = fx_now_ms() + HOSTILE_MS;
	while (fx_now_ms() < end) {
		struct raw_qp *q = &r.qp[round & 1];

		switch (round++ % 6) {
		case 0:
			raw_post(&r, q, 1 + (int)(fx_rand(&rs) % 16), fill_garbage, &rs);
			break;
		case 1: /* producer far past the ring */
			ring_store_release(&q->sq->prod, ring_load_relaxed(&q->sq->cons) + 0x7fffff00u);
			kick(&r);
			break;
		case 2: /* doorbell storm */
			for (int i = 0; i < 100000; i++)
				kick(&r);
			break;
		case 3: /* truncation: refused by the seals; holes while data moves */
			(void)!ftruncate(r.memfd, 0);
			(void)!ftruncate(r.memfd, 4096);
			(void)!ftruncate(q->fd, 0);
			(void)!ftruncate(r.cq_fd, 0);
			raw_post(&r, q, 4, fill_big_write, &rs);
			for (int i = 0; i < 50; i++)
				(void)!fallocate(r.memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
						 (off_t)(fx_rand(&rs) % EVIL_LEN) & ~4095, 1 << 16);
			break;
		case 4: /* a scribbled CQ consumer index */
			ring_store_release(&r.cqc->cons, (uint32_t)fx_rand(&rs));
			kick(&r);
			break;
		default: /* scribble on the ring's constant line and indices */
			q->sq->entries = (uint32_t)fx_rand(&rs);
			q->sq->entry_size = (uint32_t)fx_rand(&rs);
			ring_store_release(&q->sq->cons, (uint32_t)fx_rand(&rs));
			kick(&r);
			break;
		}
		usleep(500);
		drain_cq(&r);
		/* Back to a working QP (RESET empties the rings). */
		raw_modify_rts(&r, q, r.info.gid, r.qp[!(round & 1)].qpn);
	}
	_exit(0); /* no cleanup: the connection just closes */
}

/* The dier: a libciov tenant streaming 1 MiB messages to itself until it
 * is killed. */
static void dier(const char *name)
{
	struct ciov_adapter *ad;
	struct ciov_endpoint *ep;
	struct ciov_endpoint_attr ea;
	struct ciov_pd *pd;
	struct ciov_cq *cq;
	struct ciov_qp *qp[2];
	struct ciov_mr *mr;
	uint8_t *buf = aligned_alloc(4096, EVIL_LEN);
	struct ciov_qp_init_attr ia = {.qp_type = CIOV_QPT_RC, .cap = {64, 64, 1, 1, 0}};

	CHILD_CHECK(buf && ciov_adapter_open(NULL, &ad) == 0 &&
		    ciov_open_endpoint(ad, name, &ep) == 0 && ciov_query_endpoint(ep, &ea) == 0 &&
		    ciov_alloc_pd(ep, &pd) == 0 && ciov_create_cq(ep, 512, NULL, NULL, &cq) == 0 &&
		    ciov_reg_mr(pd, buf, EVIL_LEN, CIOV_ACCESS_ALL, &mr) == 0);
	ia.send_cq = ia.recv_cq = cq;
	for (int i = 0; i < 2; i++)
		CHILD_CHECK(ciov_create_qp(pd, &ia, &qp[i]) == 0);
	for (int i = 0; i < 2; i++) {
		struct fx_qp q = {.qp = qp[i]};
		struct fx_tenant t = {0};

		memcpy(t.gid, ea.gid, 16);
		fx_connect(&q, &t, qp[!i]->qp_num, NULL);
	}
	for (uint64_t n = 0;; n++) {
		struct ciov_sge s = {mr->iova, 1u << 20, mr->lkey}, d = {mr->iova + (2u << 20), 1u << 20,
									  mr->lkey};
		struct ciov_recv_wr rwr = {.wr_id = n, .sg_list = &d, .num_sge = 1};
		struct ciov_send_wr wr = {.wr_id = n, .opcode = n & 1 ? CIOV_WR_SEND : CIOV_WR_RDMA_WRITE,
					  .send_flags = CIOV_SEND_SIGNALED, .sg_list = &s, .num_sge = 1,
					  .wr.rdma = {mr->iova + (3u << 20), mr->rkey}};
		struct ciov_wc wc[16];

		ciov_post_recv(qp[1], &rwr, NULL);
		ciov_post_send(qp[0], &wr, NULL);
		ciov_poll_cq(cq, 16, wc);
		if (n % 8 == 7)
			usleep(100);
	}
}

/* ------------------------------------------------------------------------ */
/* The well-behaved pair. */

/* One WRITE, SEND and READ of sizes that change each round, verified. */
static void good_round(struct fx_pair *p, unsigned round)
{
	uint32_t n = 4096u + (round * 7919u) % (256u << 10);
	struct ciov_sge s = fx_sge(&p->a, 0, n), rd = fx_sge(&p->a, 2u << 20, n);
	struct ciov_sge r = fx_sge(&p->b, 1u << 20, n);
	struct ciov_recv_wr rwr = {.wr_id = round, .sg_list = &r, .num_sge = 1};
	struct ciov_send_wr w3 = {.wr_id = 3, .opcode = CIOV_WR_RDMA_READ,
				  .send_flags = CIOV_SEND_SIGNALED, .sg_list = &rd, .num_sge = 1,
				  .wr.rdma = {p->b.iova + (3u << 20), p->b.mr->rkey}};
	struct ciov_send_wr w2 = {.wr_id = 2, .opcode = CIOV_WR_SEND,
				  .send_flags = CIOV_SEND_SIGNALED, .sg_list = &s, .num_sge = 1,
				  .next = &w3};
	struct ciov_send_wr w1 = {.wr_id = 1, .opcode = CIOV_WR_RDMA_WRITE,
				  .send_flags = CIOV_SEND_SIGNALED, .sg_list = &s, .num_sge = 1,
				  .wr.rdma = {p->b.iova, p->b.mr->rkey}, .next = &w2};
	struct ciov_wc wc[3];

	fx_fill(p->a.buf, n, round);
	fx_fill(p->b.buf + (3u << 20), n, round + 1000000);
	fx_post_recv(&p->qb, &rwr);
	fx_post_send(&p->qa, &w1);
	fx_wait(p->qa.scq, 3, wc, FX_TIMEOUT_MS);
	for (int i = 0; i < 3; i++)
		fx_check_wc(&wc[i], 1u + (unsigned)i, CIOV_WC_SUCCESS, wc[i].opcode);
	fx_wait(p->qb.rcq, 1, wc, FX_TIMEOUT_MS);
	fx_check_wc(&wc[0], round, CIOV_WC_SUCCESS, CIOV_WC_OP_RECV);
	assert_int_equal(wc[0].byte_len, n);
	assert_memory_equal(p->b.buf, p->a.buf, n);
	assert_memory_equal(p->b.buf + (1u << 20), p->a.buf, n);
	assert_memory_equal(p->a.buf + (2u << 20), p->b.buf + (3u << 20), n);
}

static pid_t spawn(void (*fn)(const struct th_daemon *, const char *), const char *name)
{
	pid_t pid;

	json_object_put(th_admin_ok(&fx_d, "{\"cmd\":\"endpoint.add\",\"name\":\"%s\"}", name));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fn(&fx_d, name);
		_exit(0);
	}
	return pid;
}

static void dier_main(const struct th_daemon *d, const char *name)
{
	(void)d;
	dier(name);
}

static void wait_fds(int want)
{
	int n = -1;

	for (int i = 0; i < 500 && (n = th_daemon_nfds(&fx_d)) != want; i++)
		usleep(10000);
	if (n != want)
		fail_msg("ciovd has %d fds, had %d before the hostile tenants", n, want);
}

static void hostile_tenants_do_not_disturb_others_and_leak_nothing(void **state)
{
	struct fx_pair p;
	pid_t scrib[2], die[2];
	int nfds0, status;
	unsigned rounds = 0;
	double end;
	struct json_object *r;

	(void)state;
	fx_pair_new(&p, "good", CIOV_MODE_PASSTHROUGH, GOOD_LEN, NULL);
	fx_connect_pair(&p.qa, &p.qb, NULL);
	good_round(&p, rounds++);
	nfds0 = th_daemon_nfds(&fx_d);
	scrib[0] = spawn(scribbler, "evil-0");
	scrib[1] = spawn(scribbler, "evil-1");
	die[0] = spawn(dier_main, "evil-die-0");
	die[1] = spawn(dier_main, "evil-die-1");
	end = fx_now_ms() + HOSTILE_MS + 500;
	while (fx_now_ms() < end) {
		good_round(&p, rounds++);
		/* Killed mid-transfer, at different moments. */
		if (die[0] && fx_now_ms() > end - HOSTILE_MS) {
			kill(die[0], SIGKILL);
			assert_int_equal(waitpid(die[0], &status, 0), die[0]);
			assert_true(WIFSIGNALED(status)); /* it was streaming, not broken */
			die[0] = 0;
		}
		if (die[1] && fx_now_ms() > end - HOSTILE_MS / 3) {
			kill(die[1], SIGKILL);
			assert_int_equal(waitpid(die[1], &status, 0), die[1]);
			assert_true(WIFSIGNALED(status));
			die[1] = 0;
		}
	}
	for (int i = 0; i < 2; i++) {
		assert_int_equal(waitpid(scrib[i], &status, 0), scrib[i]);
		/* 0: it set everything up and then did its worst. */
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	printf("%u verified rounds while the hostile tenants ran\n", rounds);
	/* Still serving, still answering, nothing left behind. */
	good_round(&p, rounds++);
	r = th_admin_ok(&fx_d, "{\"cmd\":\"adapter.show\"}");
	assert_non_null(r);
	json_object_put(r);
	assert_int_equal(fx_usage("evil-0", "qps", 0), 0);
	assert_int_equal(fx_usage("evil-die-1", "mrs", 0), 0);
	wait_fds(nfds0);
	fx_pair_free(&p);
}

/* A tenant that knows another's GID and QPN aims WRITEs with guessed keys
 * at it. The victim's connection is to its own peer: it must not be put in
 * error (or touched) by traffic from a QP it is not connected to. */
static void rogue_requester_cannot_break_another_tenants_connection(void **state)
{
	struct fx_pair p;
	struct fx_tenant rogue;
	struct fx_qp rq;
	struct ciov_sge s;
	struct ciov_wc wc;
	struct fx_conn c = fx_conn_default;
	uint8_t *snap = malloc(GOOD_LEN);

	(void)state;
	assert_non_null(snap);
	fx_pair_new(&p, "victim", CIOV_MODE_PASSTHROUGH, GOOD_LEN, NULL);
	fx_connect_pair(&p.qa, &p.qb, NULL);
	fx_tenant_new(&rogue, "rogue", CIOV_MODE_PASSTHROUGH, 1u << 20);
	fx_qp_new(&rogue, &(struct fx_qp_opts){.type = CIOV_QPT_RC}, &rq);
	c.timeout = 8;
	c.retry_cnt = 1;
	if (fx_fabric) {
		/* Across the fabric every endpoint of an adapter sends from its
		 * port's address: the remote responder cannot tell the rogue
		 * from its peer, so the rogue's own adapter refuses a second
		 * connection to a QP one of its QPs is connected to. */
		assert_int_equal(fx_connect_try(&rq, &p.b, p.qb.qp->qp_num, &c), -EADDRINUSE);
		good_round(&p, 1);
		fx_tenant_free(&rogue);
		fx_pair_free(&p);
		free(snap);
		return;
	}
	fx_connect(&rq, &p.b, p.qb.qp->qp_num, &c); /* one-sided "connection" */
	fx_fill(p.b.buf, GOOD_LEN, 5);
	memcpy(snap, p.b.buf, GOOD_LEN);
	s = fx_sge(&rogue, 0, 64);
	for (uint32_t guess = 0; guess < 64; guess++) {
		struct ciov_send_wr wr = {.wr_id = guess, .opcode = CIOV_WR_RDMA_WRITE,
					  .send_flags = CIOV_SEND_SIGNALED, .sg_list = &s,
					  .num_sge = 1,
					  .wr.rdma = {p.b.iova, (p.b.mr->rkey & ~0xffu) | guess}};

		if (((p.b.mr->rkey & ~0xffu) | guess) == p.b.mr->rkey)
			continue; /* the right key would be a leak, not a guess */
		fx_post_send(&rq, &wr);
		fx_wait(rq.scq, 1, &wc, FX_TIMEOUT_MS);
		assert_int_not_equal(wc.status, CIOV_WC_SUCCESS);
		/* Reconnect to keep guessing. */
		fx_modify_state(&rq, CIOV_QPS_RESET);
		fx_connect(&rq, &p.b, p.qb.qp->qp_num, &c);
	}
	assert_memory_equal(p.b.buf, snap, GOOD_LEN);
	/* The victim's connection still works both ways. */
	good_round(&p, 1);
	fx_tenant_free(&rogue);
	fx_pair_free(&p);
	free(snap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hostile_tenants_do_not_disturb_others_and_leak_nothing),
		cmocka_unit_test(rogue_requester_cannot_break_another_tenants_connection),
	};

	return FX_RUN(tests);
}
