/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include <unistd.h>

#include "lib/ring.h"
#include "qtest.h"

struct th_daemon qt_d;
struct ciov_adapter *qt_ad;

void qt_add_endpoint(const char *name, const char *extra)
{
	struct json_object *rep = th_admin_ok(&qt_d, "{\"cmd\":\"endpoint.add\",\"name\":\"%s\"%s%s}",
					      name, extra ? "," : "", extra ? extra : "");

	assert_non_null(rep);
	json_object_put(rep);
}

void qt_del_endpoint(const char *name)
{
	struct json_object *rep =
		th_admin_ok(&qt_d, "{\"cmd\":\"endpoint.del\",\"name\":\"%s\",\"force\":true}", name);

	assert_non_null(rep);
	json_object_put(rep);
}

static long long qt_usage_now(const char *name, const char *q)
{
	struct json_object *rep =
		th_admin_ok(&qt_d, "{\"cmd\":\"endpoint.show\",\"name\":\"%s\"}", name);
	struct json_object *eps, *ep, *usage, *v;
	long long n = -1;

	assert_non_null(rep);
	if (json_object_object_get_ex(rep, "endpoints", &eps) &&
	    json_object_array_length(eps) == 1 && (ep = json_object_array_get_idx(eps, 0)) &&
	    json_object_object_get_ex(ep, "usage", &usage) &&
	    json_object_object_get_ex(usage, q, &v))
		n = json_object_get_int64(v);
	json_object_put(rep);
	return n;
}

long long qt_usage(const char *name, const char *q, long long want)
{
	long long n = -1;

	for (int i = 0; i < 200; i++) {
		n = qt_usage_now(name, q);
		if (n == want)
			break;
		usleep(10000);
	}
	return n;
}

int qt_group_setup(void **state)
{
	if (th_daemon_start(&qt_d) != 0) {
		fprintf(stderr, "qtest: cannot start ciovd\n");
		return -1;
	}
	qt_add_endpoint("a", NULL);
	qt_add_endpoint("b", NULL);
	return ciov_adapter_open(NULL, &qt_ad) == 0 ? 0 : -1;
}

int qt_group_teardown(void **state)
{
	int rc;

	ciov_adapter_close(qt_ad);
	rc = th_daemon_stop(&qt_d);
	th_daemon_cleanup(&qt_d);
	if (rc != 0)
		fprintf(stderr, "qtest: ciovd exited with %d\n", rc);
	return rc == 0 ? 0 : -1;
}

struct ciov_endpoint *qt_open(const char *name)
{
	struct ciov_endpoint *ep = NULL;

	assert_int_equal(ciov_open_endpoint(qt_ad, name, &ep), 0);
	return ep;
}

struct ciov_qp_init_attr qt_init_attr(enum ciov_qp_type type, struct ciov_cq *cq, uint32_t depth)
{
	return (struct ciov_qp_init_attr){
		.qp_type = type,
		.send_cq = cq,
		.recv_cq = cq,
		.cap = {.max_send_wr = depth,
			.max_recv_wr = depth,
			.max_send_sge = 2,
			.max_recv_sge = 2,
			.max_inline_data = 64},
	};
}

void qt_make_qp(struct ciov_endpoint *ep, enum ciov_qp_type type, uint32_t depth,
		struct qt_qp *ret)
{
	struct ciov_qp_init_attr ia;

	assert_int_equal(ciov_alloc_pd(ep, &ret->pd), 0);
	assert_int_equal(ciov_create_cq(ep, 256, NULL, NULL, &ret->cq), 0);
	ia = qt_init_attr(type, ret->cq, depth);
	assert_int_equal(ciov_create_qp(ret->pd, &ia, &ret->qp), 0);
}

struct ciov_qp_attr_wire qt_good_attr(void)
{
	struct ciov_qp_attr_wire a = {0};

	a.path_mtu = CIOV_MTU_1024;
	a.qkey = 0x11111111;
	a.rq_psn = 0x123456;
	a.sq_psn = 0x654321;
	a.dest_qp_num = 0x42;
	a.qp_access_flags = CIOV_ACCESS_REMOTE_WRITE | CIOV_ACCESS_REMOTE_READ;
	a.ah_attr.dgid[0] = 0xfd;
	a.ah_attr.dgid[15] = 1;
	a.ah_attr.port_num = 1;
	a.ah_attr.sl = 3;
	a.pkey_index = 0;
	a.port_num = 1;
	a.max_rd_atomic = 4;
	a.max_dest_rd_atomic = 4;
	a.min_rnr_timer = 12;
	a.timeout = 14;
	a.retry_cnt = 7;
	a.rnr_retry = 7;
	return a;
}

int qt_allowed(enum ciov_qp_type type, enum ciov_qp_state cur, enum ciov_qp_state next)
{
	if (next == CIOV_QPS_RESET || next == CIOV_QPS_ERR)
		return 1;
	switch (cur) {
	case CIOV_QPS_RESET:
		return next == CIOV_QPS_INIT;
	case CIOV_QPS_INIT:
		return next == CIOV_QPS_INIT || next == CIOV_QPS_RTR;
	case CIOV_QPS_RTR:
		return next == CIOV_QPS_RTS;
	case CIOV_QPS_RTS:
		return next == CIOV_QPS_RTS || next == CIOV_QPS_SQD;
	case CIOV_QPS_SQD:
		return next == CIOV_QPS_RTS || next == CIOV_QPS_SQD;
	case CIOV_QPS_SQE:
		return next == CIOV_QPS_RTS && type == CIOV_QPT_UD;
	default:
		return 0;
	}
}

uint32_t qt_required(enum ciov_qp_type type, enum ciov_qp_state cur, enum ciov_qp_state next)
{
	int rc = type == CIOV_QPT_RC;

	if (cur == CIOV_QPS_RESET && next == CIOV_QPS_INIT)
		return CIOV_QP_STATE | CIOV_QP_PKEY_INDEX | CIOV_QP_PORT |
		       (rc ? CIOV_QP_ACCESS_FLAGS : CIOV_QP_QKEY);
	if (cur == CIOV_QPS_INIT && next == CIOV_QPS_RTR)
		return CIOV_QP_STATE |
		       (rc ? CIOV_QP_AV | CIOV_QP_PATH_MTU | CIOV_QP_DEST_QPN | CIOV_QP_RQ_PSN |
				     CIOV_QP_MAX_DEST_RD_ATOMIC | CIOV_QP_MIN_RNR_TIMER
			   : 0);
	if (cur == CIOV_QPS_RTR && next == CIOV_QPS_RTS)
		return CIOV_QP_STATE | CIOV_QP_SQ_PSN |
		       (rc ? CIOV_QP_TIMEOUT | CIOV_QP_RETRY_CNT | CIOV_QP_RNR_RETRY |
				     CIOV_QP_MAX_QP_RD_ATOMIC
			   : 0);
	return CIOV_QP_STATE;
}

void qt_drive(struct ciov_qp *qp, enum ciov_qp_state state)
{
	static const enum ciov_qp_state path[] = {CIOV_QPS_INIT, CIOV_QPS_RTR, CIOV_QPS_RTS,
						  CIOV_QPS_SQD};
	struct ciov_qp_attr_wire a = qt_good_attr();
	enum ciov_qp_state cur = CIOV_QPS_RESET;

	a.qp_state = CIOV_QPS_RESET;
	assert_int_equal(ciov_modify_qp(qp, &a, CIOV_QP_STATE), 0);
	if (state == CIOV_QPS_RESET)
		return;
	if (state == CIOV_QPS_ERR) {
		a.qp_state = CIOV_QPS_ERR;
		assert_int_equal(ciov_modify_qp(qp, &a, CIOV_QP_STATE), 0);
		return;
	}
	for (size_t i = 0; i < sizeof(path) / sizeof(path[0]) && cur != state; i++) {
		a.qp_state = path[i];
		assert_int_equal(ciov_modify_qp(qp, &a, qt_required(qp->qp_type, cur, path[i])), 0);
		cur = path[i];
	}
	assert_int_equal(cur, state);
}

int qt_raw(struct ciov_endpoint *ep, enum ciov_ctl_op op, const void *rq, size_t rq_len,
	   void *rp, size_t rp_len, int nfds_out)
{
	int fds[CIOV_CTL_FDS_MAX];
	int err = lib_call(ep, op, rq, rq_len, rp, rp_len, NULL, 0, fds, nfds_out);

	for (int i = 0; !err && i < nfds_out; i++)
		close(fds[i]);
	return err;
}

int qt_raw_handle(struct ciov_endpoint *ep, enum ciov_ctl_op op, uint32_t handle)
{
	struct ciov_ctl_handle rq = {.handle = handle};
	struct ciov_ctl_none rp;

	return qt_raw(ep, op, &rq, sizeof(rq), &rp, sizeof(rp), 0);
}

struct ciov_ring_ctrl *qt_sq_ctrl(struct ciov_qp *qp)
{
	return qp_priv_of(qp)->sq.ctrl;
}

struct ciov_ring_ctrl *qt_rq_ctrl(struct ciov_qp *qp)
{
	return qp_priv_of(qp)->rq.ctrl;
}

struct ciov_ring_ctrl *qt_cq_ctrl(struct ciov_cq *cq)
{
	return cq_priv_of(cq)->ring.ctrl;
}

struct ciov_ring_ctrl *qt_srq_ctrl(struct ciov_srq *srq)
{
	return srq_priv_of(srq)->ring.ctrl;
}

void *qt_slot(struct ciov_ring_ctrl *c, uint32_t idx)
{
	return (uint8_t *)(c + 1) + (size_t)(idx & (c->entries - 1)) * c->entry_size;
}
