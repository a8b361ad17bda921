/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/fdmsg.h"
#include "fixture.h"
#include "netns.h"

struct th_daemon fx_d;
struct ciov_adapter *fx_ad;
struct th_daemon fx_d2;
static struct ciov_adapter *fx_ad2;
bool fx_fabric;
static unsigned fx_turn;
static struct th_net fx_net;

static struct json_object *admin_ok(const char *what, struct json_object *r);
int fx_skipped;

const enum ciov_mode fx_modes[2] = {CIOV_MODE_PASSTHROUGH, CIOV_MODE_NATIVE};

const struct fx_conn fx_conn_default = {
	.access = CIOV_ACCESS_REMOTE_WRITE | CIOV_ACCESS_REMOTE_READ | CIOV_ACCESS_REMOTE_ATOMIC,
	.min_rnr_timer = 1, /* 0.01 ms (IBA table 45) */
	.rnr_retry = 7,	    /* forever */
	.timeout = 14,	    /* 4.096 us * 2^14 = 67 ms */
	.retry_cnt = 7,
};

const char *fx_mode_name(enum ciov_mode mode)
{
	return mode == CIOV_MODE_NATIVE ? "native" : "passthrough";
}

int fx_result(int failed)
{
	if (failed)
		return 1;
	return fx_skipped ? 77 : 0;
}

size_t fx_ud_mtu(void)
{
	const char *m = getenv("CIOV_TEST_PMTU");

	return fx_fabric ? (m ? (size_t)atoi(m) : 1024) : 4096;
}

/* Port p0's counter NAME on D (-1 if it cannot be read). */
static long long fx_port_counter(struct th_daemon *d, const char *name)
{
	struct json_object *r = th_admin(d, "{\"cmd\":\"port.show\",\"name\":\"p0\"}");
	long long v = th_get_int(r, "ports", "0", "counters", name, NULL);

	json_object_put(r);
	return v;
}

/* Two hosts (tests/harness/netns.h): a veth pair, a ciovd and a port p0 in
 * each. Whatever fails, the namespaces go at exit (netns.c's atexit) and
 * the daemons with this process (PR_SET_PDEATHSIG). */
static int fx_fabric_setup(void)
{
	const char *fam = getenv("CIOV_TEST_FAMILY");
	const char *pmtu = getenv("CIOV_TEST_PMTU") ? getenv("CIOV_TEST_PMTU") : "1024";
	struct th_daemon *d[2] = {&fx_d, &fx_d2};

	if (th_net_available(true))
		exit(77);
	if (th_net_pair(&fx_net, fam && strcmp(fam, "6") == 0 ? 6 : 4, 0))
		return -1;
	for (int i = 0; i < 2; i++) {
		struct json_object *r;

		if (th_daemon_start_in(d[i], fx_net.host[i].ns) != 0) {
			fprintf(stderr, "fixture: cannot start ciovd in %s\n", fx_net.host[i].ns);
			return -1;
		}
		r = th_admin(d[i], "{\"cmd\":\"port.add\",\"name\":\"p0\",\"addr\":\"%s\","
				   "\"mtu\":%s}", fx_net.host[i].addr, pmtu);
		if (!th_ok(r)) {
			fprintf(stderr, "fixture: port.add %s in %s: %s\n", fx_net.host[i].addr,
				fx_net.host[i].ns, r ? json_object_to_json_string(r) : "(no reply)");
			json_object_put(r);
			return -1;
		}
		json_object_put(r);
	}
	fx_fabric = true;
	/* libciov's default adapter (ciov_adapter_open(NULL), e.g. in a forked
	 * tenant) is fx_d's, like on loopback: the last start set fx_d2's. */
	setenv("CIOV_RUNTIME_DIR", fx_d.rt, 1);
	printf("fabric: %s (%s, %s) <-> %s (%s, %s), path MTU %s\n", fx_net.host[0].addr,
	       fx_net.host[0].ns, fx_net.host[0].dev, fx_net.host[1].addr, fx_net.host[1].ns,
	       fx_net.host[1].dev, pmtu);
	return ciov_adapter_open(fx_d.rt, &fx_ad) == 0 && ciov_adapter_open(fx_d2.rt, &fx_ad2) == 0
		       ? 0
		       : -1;
}

/* Both daemons' port counters: what crossed, and no packet mangled on a
 * clean veth. Returns -1 if a port counted ICRC or parser errors. */
static int fx_fabric_report(void)
{
	int rc = 0;

	for (int i = 0; i < 2; i++) {
		struct th_daemon *d = i ? &fx_d2 : &fx_d;
		long long icrc = fx_port_counter(d, "icrc_errors");
		long long bad = fx_port_counter(d, "rcv_errors");

		printf("fabric: host %c sent %lld packets, received %lld, retransmits %lld, "
		       "discards %lld, ICRC errors %lld, malformed %lld\n",
		       'A' + i, fx_port_counter(d, "xmit_pkts"), fx_port_counter(d, "rcv_pkts"),
		       fx_port_counter(d, "retransmits"), fx_port_counter(d, "rcv_discards"), icrc,
		       bad);
		if (icrc != 0 || bad != 0) {
			fprintf(stderr, "fixture: host %c's port dropped bad packets on a clean link\n",
				'A' + i);
			rc = -1;
		}
	}
	return rc;
}

int fx_group_setup(void **state)
{
	const char *pl = getenv("CIOV_TEST_PLACEMENT");

	(void)state;
	if (pl && strcmp(pl, "fabric") == 0) {
		if (fx_fabric_setup() == 0)
			return 0;
		/* cmocka does not run the group teardown after a failed setup */
		th_daemon_cleanup(&fx_d);
		th_daemon_cleanup(&fx_d2);
		th_net_destroy(&fx_net);
		fx_fabric = false;
		return -1;
	}
	if (th_daemon_start(&fx_d) != 0) {
		fprintf(stderr, "fixture: cannot start ciovd\n");
		th_daemon_cleanup(&fx_d);
		return -1;
	}
	return ciov_adapter_open(NULL, &fx_ad) == 0 ? 0 : -1;
}

int fx_group_teardown(void **state)
{
	int rc, bad = fx_fabric ? fx_fabric_report() : 0;

	(void)state;
	ciov_adapter_close(fx_ad);
	fx_ad = NULL;
	rc = th_daemon_stop(&fx_d);
	th_daemon_cleanup(&fx_d);
	if (fx_fabric) {
		int rc2;

		ciov_adapter_close(fx_ad2);
		fx_ad2 = NULL;
		rc2 = th_daemon_stop(&fx_d2);
		th_daemon_cleanup(&fx_d2);
		if (rc2 != 0)
			fprintf(stderr, "fixture: host B's ciovd exited with %d\n", rc2);
		rc = rc ? rc : rc2 ? rc2 : bad;
		th_net_destroy(&fx_net);
		fx_fabric = false;
	}
	if (rc != 0)
		fprintf(stderr, "fixture: ciovd exited with %d (sanitizer report above?), or a "
				"fabric port counted bad packets\n", rc);
	return rc == 0 ? 0 : -1;
}

double fx_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

uint64_t fx_rand(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

void fx_fill(void *p, size_t n, uint64_t seed)
{
	uint8_t *b = p;
	uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t v = fx_rand(&s);

		memcpy(b + i, &v, 8);
	}
	if (i < n) {
		uint64_t v = fx_rand(&s);

		memcpy(b + i, &v, n - i);
	}
}

/* ------------------------------------------------------------------------ */
/* Admin helpers (the manager of native endpoints). */

static struct json_object *admin_ok(const char *what, struct json_object *r)
{
	if (!th_ok(r))
		fail_msg("%s: %s", what, r ? json_object_to_json_string(r) : "(no reply from ciovd)");
	return r;
}

static uint32_t prov_handle(struct json_object *r)
{
	long long h = th_get_int(r, "handle", NULL);

	json_object_put(r);
	assert_true(h > 0 && h <= UINT32_MAX);
	return (uint32_t)h;
}

long long fx_usage(const char *name, const char *key, long long want)
{
	long long v = -1;
	struct th_daemon *d = &fx_d;

	if (fx_fabric) { /* the adapter that has endpoint NAME */
		struct json_object *r =
			th_admin(&fx_d, "{\"cmd\":\"endpoint.show\",\"name\":\"%s\"}", name);

		if (!th_ok(r))
			d = &fx_d2;
		json_object_put(r);
	}
	for (int i = 0; i < 500; i++) {
		struct json_object *r =
			th_admin_ok(d, "{\"cmd\":\"endpoint.show\",\"name\":\"%s\"}", name);

		v = th_get_int(r, "endpoints", "0", "usage", key, NULL);
		json_object_put(r);
		if (v == want)
			break;
		usleep(10000);
	}
	return v;
}

/* ------------------------------------------------------------------------ */
/* Tenants. */

static void native_memory(struct fx_tenant *t)
{
	int fd = memfd_create("fx-native", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	struct json_object *r;
	struct ciov_seg *seg;
	uint32_t seg_h, mr_h;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)t->len), 0);
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
	r = th_admin_fds(t->d, &fd, 1,
			 "{\"cmd\":\"seg.attach\",\"endpoint\":\"%s\",\"iova\":\"0x%llx\","
			 "\"length\":%zu,\"fds\":1}",
			 t->name, (unsigned long long)FX_NATIVE_IOVA, t->len);
	close(fd); /* ciovd keeps its own reference */
	seg_h = prov_handle(admin_ok("seg.attach", r));
	assert_int_equal(ciov_open_seg(t->ep, seg_h, &seg), 0);
	t->buf = seg->addr;
	t->iova = seg->iova;
	assert_int_equal(t->iova, FX_NATIVE_IOVA);
	mr_h = prov_handle(admin_ok(
		"mr.reg", th_admin(t->d,
				   "{\"cmd\":\"mr.reg\",\"endpoint\":\"%s\",\"pd\":%u,"
				   "\"iova\":\"0x%llx\",\"length\":%zu,\"access\":%u}",
				   t->name, t->pd_h, (unsigned long long)t->iova, t->len,
				   CIOV_ACCESS_ALL)));
	assert_int_equal(ciov_open_mr(t->pd, mr_h, &t->mr), 0);
	assert_ptr_equal(t->mr->addr, t->buf);
}

void fx_tenant_new(struct fx_tenant *t, const char *name, enum ciov_mode mode, size_t len)
{
	struct ciov_endpoint_attr ea;
	long page = sysconf(_SC_PAGESIZE);

	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->d = &fx_d;
	t->ad = fx_ad;
	if (fx_fabric && (fx_turn++ & 1)) {
		t->d = &fx_d2;
		t->ad = fx_ad2;
	}
	t->mode = mode;
	t->len = (len + (size_t)page - 1) / (size_t)page * (size_t)page;
	json_object_put(admin_ok("endpoint.add",
				 th_admin(t->d, "{\"cmd\":\"endpoint.add\",\"name\":\"%s\",\"mode\":\"%s\"}",
					  name, fx_mode_name(mode))));
	assert_int_equal(ciov_open_endpoint(t->ad, name, &t->ep), 0);
	assert_int_equal(ciov_query_endpoint(t->ep, &ea), 0);
	assert_int_equal(ea.mode, mode);
	memcpy(t->gid, ea.gid, 16);
	t->max_sge = ea.max_sge;
	if (mode == CIOV_MODE_NATIVE) {
		t->pd = fx_pd_new(t, &t->pd_h);
		native_memory(t);
	} else {
		assert_int_equal(ciov_alloc_pd(t->ep, &t->pd), 0);
		/* Ordinary heap memory: libciov re-backs it on registration.
		 * Page-aligned, so that two tenants' buffers never share a
		 * page (libciov bug: see adjacent_heap_test.c). */
		t->buf = aligned_alloc((size_t)page, t->len);
		assert_non_null(t->buf);
		memset(t->buf, 0, t->len);
		assert_int_equal(ciov_reg_mr(t->pd, t->buf, t->len, CIOV_ACCESS_ALL, &t->mr), 0);
		t->iova = t->mr->iova;
		assert_int_equal(t->iova, (uint64_t)(uintptr_t)t->buf);
	}
}

void fx_tenant_free(struct fx_tenant *t)
{
	if (!t->ep)
		return;
	ciov_close_endpoint(t->ep);
	t->ep = NULL;
	json_object_put(admin_ok("endpoint.del",
				 th_admin(t->d, "{\"cmd\":\"endpoint.del\",\"name\":\"%s\",\"force\":true}",
					  t->name)));
	if (t->mode != CIOV_MODE_NATIVE)
		free(t->buf);
	t->buf = NULL;
}

struct ciov_pd *fx_pd_new(struct fx_tenant *t, uint32_t *handle)
{
	struct ciov_pd *pd = NULL;

	if (t->mode == CIOV_MODE_NATIVE) {
		uint32_t h = prov_handle(admin_ok(
			"pd.alloc",
			th_admin(t->d, "{\"cmd\":\"pd.alloc\",\"endpoint\":\"%s\"}", t->name)));

		assert_int_equal(ciov_open_pd(t->ep, h, &pd), 0);
		if (handle)
			*handle = h;
	} else {
		assert_int_equal(ciov_alloc_pd(t->ep, &pd), 0);
		if (handle)
			*handle = pd->handle;
	}
	return pd;
}

struct ciov_mr *fx_mr_new(struct fx_tenant *t, struct ciov_pd *pd, uint32_t pd_h, size_t off,
			  size_t len, unsigned access)
{
	struct ciov_mr *mr = NULL;

	assert_true(off <= t->len && len <= t->len - off);
	if (t->mode == CIOV_MODE_NATIVE) {
		uint32_t h = prov_handle(admin_ok(
			"mr.reg", th_admin(t->d,
					   "{\"cmd\":\"mr.reg\",\"endpoint\":\"%s\",\"pd\":%u,"
					   "\"iova\":\"0x%llx\",\"length\":%zu,\"access\":%u}",
					   t->name, pd_h, (unsigned long long)(t->iova + off), len,
					   access)));

		assert_int_equal(ciov_open_mr(pd, h, &mr), 0);
	} else {
		assert_int_equal(ciov_reg_mr(pd, t->buf + off, len, access, &mr), 0);
	}
	return mr;
}

void fx_mr_free(struct fx_tenant *t, struct ciov_mr *mr)
{
	uint32_t h = mr->handle;

	assert_int_equal(ciov_dereg_mr(mr), 0);
	if (t->mode == CIOV_MODE_NATIVE)
		json_object_put(admin_ok(
			"mr.dereg", th_admin(t->d,
					     "{\"cmd\":\"mr.dereg\",\"endpoint\":\"%s\",\"handle\":%u}",
					     t->name, h)));
}

struct ciov_cq *fx_cq_new(struct fx_tenant *t, uint32_t cqe, struct ciov_comp_channel *ch)
{
	struct ciov_cq *cq = NULL;

	if (t->mode == CIOV_MODE_NATIVE) {
		uint32_t h = prov_handle(admin_ok(
			"cq.create", th_admin(t->d, "{\"cmd\":\"cq.create\",\"endpoint\":\"%s\",\"cqe\":%u}",
					      t->name, cqe)));

		assert_int_equal(ciov_open_cq(t->ep, h, NULL, ch, &cq), 0);
	} else {
		assert_int_equal(ciov_create_cq(t->ep, (int)cqe, NULL, ch, &cq), 0);
	}
	return cq;
}

struct ciov_srq *fx_srq_new(struct fx_tenant *t, uint32_t max_wr, uint32_t max_sge)
{
	struct ciov_srq *srq = NULL;

	if (t->mode == CIOV_MODE_NATIVE) {
		uint32_t h = prov_handle(admin_ok(
			"srq.create",
			th_admin(t->d,
				 "{\"cmd\":\"srq.create\",\"endpoint\":\"%s\",\"pd\":%u,\"max_wr\":%u,"
				 "\"max_sge\":%u}",
				 t->name, t->pd_h, max_wr, max_sge)));

		assert_int_equal(ciov_open_srq(t->pd, h, &srq), 0);
	} else {
		struct ciov_srq_attr a = {.max_wr = max_wr, .max_sge = max_sge};

		assert_int_equal(ciov_create_srq(t->pd, &a, &srq), 0);
	}
	return srq;
}

void fx_qp_new(struct fx_tenant *t, const struct fx_qp_opts *o, struct fx_qp *q)
{
	uint32_t depth = o->depth ? o->depth : FX_DEPTH;
	uint32_t cqe = o->cqe ? o->cqe : 4 * depth;
	struct ciov_qp_cap cap = {
		.max_send_wr = depth,
		.max_recv_wr = o->srq ? 0 : depth,
		.max_send_sge = FX_MAX_SGE,
		.max_recv_sge = o->srq ? 0 : FX_MAX_SGE,
		.max_inline_data = 64,
	};

	memset(q, 0, sizeof(*q));
	q->t = t;
	q->scq = o->scq ? o->scq : fx_cq_new(t, cqe, o->ch);
	q->rcq = o->rcq ? o->rcq : fx_cq_new(t, cqe, o->ch);
	if (t->mode == CIOV_MODE_NATIVE) {
		uint32_t h = prov_handle(admin_ok(
			"qp.create",
			th_admin(t->d,
				 "{\"cmd\":\"qp.create\",\"endpoint\":\"%s\",\"pd\":%u,\"qp_type\":\"%s\","
				 "\"send_cq\":%u,\"recv_cq\":%u,\"srq\":%u,\"cap\":{\"max_send_wr\":%u,"
				 "\"max_recv_wr\":%u,\"max_send_sge\":%u,\"max_recv_sge\":%u,"
				 "\"max_inline_data\":%u}}",
				 t->name, t->pd_h, o->type == CIOV_QPT_UD ? "ud" : "rc",
				 q->scq->handle, q->rcq->handle, o->srq ? o->srq->handle : 0,
				 cap.max_send_wr, cap.max_recv_wr, cap.max_send_sge,
				 cap.max_recv_sge, cap.max_inline_data)));

		assert_int_equal(ciov_open_qp(t->pd, h, q->scq, q->rcq, o->srq, &q->qp), 0);
	} else {
		struct ciov_qp_init_attr ia = {
			.qp_type = o->type,
			.send_cq = q->scq,
			.recv_cq = q->rcq,
			.srq = o->srq,
			.cap = cap,
		};

		assert_int_equal(ciov_create_qp(t->pd, &ia, &q->qp), 0);
	}
	assert_true(q->qp->cap.max_send_sge >= FX_MAX_SGE);
}

void fx_qp_free(struct fx_qp *q)
{
	struct fx_tenant *t = q->t;
	uint32_t h = q->qp ? q->qp->handle : 0;

	if (!t)
		return;
	if (q->ah)
		assert_int_equal(ciov_destroy_ah(q->ah), 0);
	if (q->qp)
		assert_int_equal(ciov_destroy_qp(q->qp), 0);
	if (t->mode == CIOV_MODE_NATIVE && h)
		json_object_put(admin_ok(
			"qp.destroy", th_admin(t->d,
					       "{\"cmd\":\"qp.destroy\",\"endpoint\":\"%s\",\"handle\":%u}",
					       t->name, h)));
	/* CQs go with the endpoint (a native CQ may be shared by QPs). */
	memset(q, 0, sizeof(*q));
}

/* ------------------------------------------------------------------------ */
/* Connecting. */

void fx_modify_state(struct fx_qp *q, enum ciov_qp_state state)
{
	struct ciov_qp_attr a = {.qp_state = state};
	int err = ciov_modify_qp(q->qp, &a, CIOV_QP_STATE);

	if (err)
		fail_msg("qp %u to %s: %s", q->qp->qp_num, ciov_qp_state_str(state), strerror(-err));
}

int fx_connect_try(struct fx_qp *q, const struct fx_tenant *peer_t, uint32_t peer_qpn,
		   const struct fx_conn *c)
{
	struct ciov_qp_attr a = {0};
	int err;

	if (!c)
		c = &fx_conn_default;
	a.qp_state = CIOV_QPS_INIT;
	a.port_num = 1;
	a.qp_access_flags = c->access;
	assert_int_equal(ciov_modify_qp(q->qp, &a, CIOV_QP_STATE | CIOV_QP_PKEY_INDEX |
							   CIOV_QP_PORT | CIOV_QP_ACCESS_FLAGS),
			 0);
	a.qp_state = CIOV_QPS_RTR;
	a.path_mtu = CIOV_MTU_4096;
	a.dest_qp_num = peer_qpn;
	a.rq_psn = 0;
	memcpy(a.ah_attr.dgid, peer_t->gid, 16);
	a.ah_attr.port_num = 1;
	a.max_dest_rd_atomic = 16;
	a.min_rnr_timer = c->min_rnr_timer;
	err = ciov_modify_qp(q->qp, &a, CIOV_QP_STATE | CIOV_QP_AV | CIOV_QP_PATH_MTU |
						CIOV_QP_DEST_QPN | CIOV_QP_RQ_PSN |
						CIOV_QP_MAX_DEST_RD_ATOMIC | CIOV_QP_MIN_RNR_TIMER);
	if (err)
		return err;
	a.qp_state = CIOV_QPS_RTS;
	a.sq_psn = 0;
	a.timeout = c->timeout;
	a.retry_cnt = c->retry_cnt;
	a.rnr_retry = c->rnr_retry;
	a.max_rd_atomic = 16;
	assert_int_equal(ciov_modify_qp(q->qp, &a, CIOV_QP_STATE | CIOV_QP_SQ_PSN | CIOV_QP_TIMEOUT |
							   CIOV_QP_RETRY_CNT | CIOV_QP_RNR_RETRY |
							   CIOV_QP_MAX_QP_RD_ATOMIC),
			 0);
	q->peer_qpn = peer_qpn;
	return 0;
}

void fx_connect(struct fx_qp *q, const struct fx_tenant *peer_t, uint32_t peer_qpn,
		const struct fx_conn *c)
{
	assert_int_equal(fx_connect_try(q, peer_t, peer_qpn, c), 0);
}

void fx_connect_pair(struct fx_qp *a, struct fx_qp *b, const struct fx_conn *c)
{
	fx_connect(a, b->t, b->qp->qp_num, c);
	fx_connect(b, a->t, a->qp->qp_num, c);
}

void fx_connect_ud(struct fx_qp *q, const struct fx_qp *peer)
{
	struct ciov_qp_attr a = {0};
	struct ciov_ah_attr av = {.port_num = 1, .hop_limit = 64};

	a.qp_state = CIOV_QPS_INIT;
	a.port_num = 1;
	a.qkey = FX_QKEY;
	assert_int_equal(ciov_modify_qp(q->qp, &a, CIOV_QP_STATE | CIOV_QP_PKEY_INDEX |
							   CIOV_QP_PORT | CIOV_QP_QKEY),
			 0);
	a.qp_state = CIOV_QPS_RTR;
	assert_int_equal(ciov_modify_qp(q->qp, &a, CIOV_QP_STATE), 0);
	a.qp_state = CIOV_QPS_RTS;
	a.sq_psn = 0;
	assert_int_equal(ciov_modify_qp(q->qp, &a, CIOV_QP_STATE | CIOV_QP_SQ_PSN), 0);
	memcpy(av.dgid, peer->t->gid, 16);
	assert_int_equal(ciov_create_ah(q->t->pd, &av, &q->ah), 0);
	q->peer_qpn = peer->qp->qp_num;
}

struct ciov_sge fx_sge(const struct fx_tenant *t, size_t off, uint32_t len)
{
	return (struct ciov_sge){.addr = t->iova + off, .length = len, .lkey = t->mr->lkey};
}

/* ------------------------------------------------------------------------ */
/* Posting and polling. */

void fx_post_send(struct fx_qp *q, struct ciov_send_wr *wr)
{
	const struct ciov_send_wr *bad = NULL;
	int err = ciov_post_send(q->qp, wr, &bad);

	if (err)
		fail_msg("post_send on qp %u: %s", q->qp->qp_num, strerror(-err));
}

void fx_post_recv(struct fx_qp *q, struct ciov_recv_wr *wr)
{
	const struct ciov_recv_wr *bad = NULL;
	int err = ciov_post_recv(q->qp, wr, &bad);

	if (err)
		fail_msg("post_recv on qp %u: %s", q->qp->qp_num, strerror(-err));
}

int fx_poll_for(struct ciov_cq *cq, int n, struct ciov_wc *wc, int ms)
{
	double end = fx_now_ms() + ms;
	int got = 0;

	while (got < n) {
		int r = ciov_poll_cq(cq, n - got, wc + got);

		if (r < 0)
			fail_msg("poll_cq: %s", strerror(-r));
		got += r;
		if (r == 0) {
			if (fx_now_ms() > end)
				break;
			sched_yield();
		}
	}
	return got;
}

void fx_wait(struct ciov_cq *cq, int n, struct ciov_wc *wc, int timeout_ms)
{
	int got = fx_poll_for(cq, n, wc, timeout_ms);

	if (got != n)
		fail_msg("%d of %d completions within %d ms", got, n, timeout_ms);
}

void fx_no_cqe(struct ciov_cq *cq, int ms)
{
	struct ciov_wc wc;

	if (fx_poll_for(cq, 1, &wc, ms))
		fail_msg("unexpected completion: wr_id %llu status %s opcode %d",
			 (unsigned long long)wc.wr_id, ciov_wc_status_str(wc.status), wc.opcode);
}

void fx_check_wc(const struct ciov_wc *wc, uint64_t wr_id, enum ciov_wc_status status,
		 enum ciov_wc_opcode opcode)
{
	if (wc->wr_id != wr_id || wc->status != status ||
	    (status == CIOV_WC_SUCCESS && wc->opcode != opcode))
		fail_msg("completion: want wr_id %llu %s opcode %d, got wr_id %llu %s opcode %d",
			 (unsigned long long)wr_id, ciov_wc_status_str(status), opcode,
			 (unsigned long long)wc->wr_id, ciov_wc_status_str(wc->status), wc->opcode);
}

void fx_pair_new(struct fx_pair *p, const char *tag, enum ciov_mode mode, size_t len,
		 const struct fx_qp_opts *o)
{
	static const struct fx_qp_opts rc = {.type = CIOV_QPT_RC};
	char n[64];

	snprintf(n, sizeof(n), "%s-%s-a", tag, fx_mode_name(mode));
	fx_tenant_new(&p->a, n, mode, len);
	snprintf(n, sizeof(n), "%s-%s-b", tag, fx_mode_name(mode));
	fx_tenant_new(&p->b, n, mode, len);
	fx_qp_new(&p->a, o ? o : &rc, &p->qa);
	fx_qp_new(&p->b, o ? o : &rc, &p->qb);
}

void fx_pair_free(struct fx_pair *p)
{
	fx_tenant_free(&p->a);
	fx_tenant_free(&p->b);
}

/* ------------------------------------------------------------------------ */
/* Raw protocol. */

int fx_raw_call(int sock, unsigned op, const void *req, size_t req_len, void *rep,
		size_t rep_len, const int *fds_in, int nfds_in, int *fds_out, int maxfds,
		int *nfds)
{
	char buf[CIOV_CTL_MSG_MAX];
	struct ciov_ctl_hdr h = {
		.magic = CIOV_CTL_MAGIC,
		.version = CIOV_ABI_VERSION,
		.op = (uint16_t)op,
		.seq = 7,
		.len = (uint32_t)req_len,
	};
	int rfds[CIOV_CTL_FDS_MAX], nr = 0;
	ssize_t n;

	if (nfds)
		*nfds = 0;
	if (sizeof(h) + req_len > sizeof(buf))
		return -EMSGSIZE;
	memcpy(buf, &h, sizeof(h));
	if (req_len)
		memcpy(buf + sizeof(h), req, req_len);
	if (fdmsg_send(sock, buf, sizeof(h) + req_len, fds_in, nfds_in))
		return 1;
	n = fdmsg_recv(sock, buf, sizeof(buf), rfds, CIOV_CTL_FDS_MAX, &nr);
	if (n < (ssize_t)sizeof(h)) {
		fdmsg_close_all(rfds, nr);
		return 1;
	}
	for (int i = 0; i < nr; i++) {
		if (fds_out && i < maxfds) {
			fds_out[i] = rfds[i];
			if (nfds)
				(*nfds)++;
		} else {
			close(rfds[i]);
		}
	}
	memcpy(&h, buf, sizeof(h));
	if (rep && h.status == 0)
		memcpy(rep, buf + sizeof(h), rep_len < h.len ? rep_len : h.len);
	return h.status;
}
