/* SPDX-License-Identifier: MIT */
/*
 * bench-qp: control-path latency of queue pairs against a private ciovd.
 *
 *   create_qp       ciov_create_qp (RC, 64 send + 64 recv WRs)
 *   modify_to_rts   RESET->INIT->RTR->RTS, three ciov_modify_qp calls
 *   destroy_qp      ciov_destroy_qp
 *
 * measured for a passthrough tenant (libciov over the tenant socket) and
 * for a native endpoint's manager (the same operations as JSON over the
 * admin socket), so each run compares the two paths. One JSON line per
 * case: {"bench":"qp","mode":...,"op":...,"n":...,"median_us":...,
 * "p99_us":...}. Usage: bench-qp [ITERATIONS] (default 2000).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ciov/ciov.h>

#include "harness.h"
#include "stats.h"

enum bench_op { OP_CREATE, OP_MODIFY_RTS, OP_DESTROY, OP_MAX };
static const char *const op_names[OP_MAX] = {"create_qp", "modify_to_rts", "destroy_qp"};

static void report(const char *mode, enum bench_op op, double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	printf("{\"bench\":\"qp\",\"mode\":\"%s\",\"op\":\"%s\",\"n\":%d,\"median_us\":%.2f,"
	       "\"p99_us\":%.2f}\n",
	       mode, op_names[op], n, v[n / 2], v[(int)((double)n * 0.99)]);
}

/* The modify sequence of a connected RC QP (IBA 11.2.4.2 required masks). */
static int to_rts(struct ciov_qp *qp)
{
	struct ciov_qp_attr_wire a = {
		.qp_state = CIOV_QPS_INIT,
		.port_num = 1,
		.qp_access_flags = CIOV_ACCESS_REMOTE_WRITE,
		.path_mtu = CIOV_MTU_4096,
		.dest_qp_num = qp->qp_num,
		.ah_attr = {.dgid = {0xfd, [15] = 1}, .port_num = 1},
		.min_rnr_timer = 12,
		.max_dest_rd_atomic = 1,
		.max_rd_atomic = 1,
		.timeout = 14,
		.retry_cnt = 7,
		.rnr_retry = 7,
	};
	int err;

	err = ciov_modify_qp(qp, &a,
			     CIOV_QP_STATE | CIOV_QP_PKEY_INDEX | CIOV_QP_PORT | CIOV_QP_ACCESS_FLAGS);
	a.qp_state = CIOV_QPS_RTR;
	if (!err)
		err = ciov_modify_qp(qp, &a,
				     CIOV_QP_STATE | CIOV_QP_AV | CIOV_QP_PATH_MTU | CIOV_QP_DEST_QPN |
					     CIOV_QP_RQ_PSN | CIOV_QP_MAX_DEST_RD_ATOMIC |
					     CIOV_QP_MIN_RNR_TIMER);
	a.qp_state = CIOV_QPS_RTS;
	if (!err)
		err = ciov_modify_qp(qp, &a,
				     CIOV_QP_STATE | CIOV_QP_TIMEOUT | CIOV_QP_RETRY_CNT |
					     CIOV_QP_RNR_RETRY | CIOV_QP_SQ_PSN |
					     CIOV_QP_MAX_QP_RD_ATOMIC);
	return err;
}

static int bench_passthrough(struct th_daemon *d, int n, double *t[OP_MAX])
{
	struct ciov_qp_init_attr ia = {
		.qp_type = CIOV_QPT_RC,
		.cap = {.max_send_wr = 64, .max_recv_wr = 64, .max_send_sge = 1, .max_recv_sge = 1},
	};
	struct ciov_adapter *ad = NULL;
	struct ciov_endpoint *ep = NULL;
	struct ciov_pd *pd;
	struct ciov_cq *cq;
	struct json_object *rep;
	int err;

	rep = th_admin_ok(d, "{\"cmd\":\"endpoint.add\",\"name\":\"bench\"}");
	if (!rep)
		return -EIO;
	json_object_put(rep);
	err = ciov_adapter_open(NULL, &ad);
	if (!err)
		err = ciov_open_endpoint(ad, "bench", &ep);
	if (!err)
		err = ciov_alloc_pd(ep, &pd);
	if (!err)
		err = ciov_create_cq(ep, 1024, NULL, NULL, &cq);
	ia.send_cq = ia.recv_cq = cq;
	for (int i = 0; !err && i < n; i++) {
		struct ciov_qp *qp;
		double t0 = now_us(), t1, t2;

		err = ciov_create_qp(pd, &ia, &qp);
		if (err)
			break;
		t1 = now_us();
		err = to_rts(qp);
		t2 = now_us();
		if (!err)
			err = ciov_destroy_qp(qp);
		t[OP_CREATE][i] = t1 - t0;
		t[OP_MODIFY_RTS][i] = t2 - t1;
		t[OP_DESTROY][i] = now_us() - t2;
	}
	ciov_close_endpoint(ep);
	ciov_adapter_close(ad);
	return err;
}

/* The native endpoint's manager: the same operations as admin JSON. */
static int bench_native(struct th_daemon *d, int n, double *t[OP_MAX])
{
	static const char *const modify[] = {
		"\"mask\":[\"state\",\"pkey_index\",\"port\",\"access_flags\"],"
		"\"attr\":{\"qp_state\":\"INIT\",\"port_num\":1,\"qp_access_flags\":[\"remote_write\"]}",
		"\"mask\":[\"state\",\"av\",\"path_mtu\",\"dest_qpn\",\"rq_psn\","
		"\"max_dest_rd_atomic\",\"min_rnr_timer\"],"
		"\"attr\":{\"qp_state\":\"RTR\",\"path_mtu\":4096,\"dest_qp_num\":2,"
		"\"ah_attr\":{\"dgid\":\"fd00::1\",\"port_num\":1},\"min_rnr_timer\":12,"
		"\"max_dest_rd_atomic\":1}",
		"\"mask\":[\"state\",\"timeout\",\"retry_cnt\",\"rnr_retry\",\"sq_psn\","
		"\"max_qp_rd_atomic\"],"
		"\"attr\":{\"qp_state\":\"RTS\",\"timeout\":14,\"retry_cnt\":7,"
		"\"rnr_retry\":7,\"max_rd_atomic\":1}",
	};
	struct json_object *rep;
	long long pd, cq;

	rep = th_admin_ok(d, "{\"cmd\":\"endpoint.add\",\"name\":\"nbench\",\"mode\":\"native\"}");
	if (!rep)
		return -EIO;
	json_object_put(rep);
	rep = th_admin_ok(d, "{\"cmd\":\"pd.alloc\",\"endpoint\":\"nbench\"}");
	pd = th_get_int(rep, "handle", NULL);
	json_object_put(rep);
	rep = th_admin_ok(d, "{\"cmd\":\"cq.create\",\"endpoint\":\"nbench\",\"cqe\":1024}");
	cq = th_get_int(rep, "handle", NULL);
	json_object_put(rep);
	if (pd <= 0 || cq <= 0)
		return -EIO;
	for (int i = 0; i < n; i++) {
		double t0 = now_us(), t1, t2;
		long long qp;

		rep = th_admin_ok(d,
				  "{\"cmd\":\"qp.create\",\"endpoint\":\"nbench\",\"pd\":%lld,"
				  "\"qp_type\":\"rc\",\"send_cq\":%lld,\"recv_cq\":%lld,\"cap\":"
				  "{\"max_send_wr\":64,\"max_recv_wr\":64,\"max_send_sge\":1,"
				  "\"max_recv_sge\":1}}",
				  pd, cq, cq);
		qp = th_get_int(rep, "handle", NULL);
		json_object_put(rep);
		if (qp <= 0)
			return -EIO;
		t1 = now_us();
		for (int s = 0; s < 3; s++) {
			rep = th_admin_ok(d, "{\"cmd\":\"qp.modify\",\"endpoint\":\"nbench\","
					     "\"handle\":%lld,%s}",
					  qp, modify[s]);
			if (!rep)
				return -EIO;
			json_object_put(rep);
		}
		t2 = now_us();
		rep = th_admin_ok(d, "{\"cmd\":\"qp.destroy\",\"endpoint\":\"nbench\",\"handle\":%lld}",
				  qp);
		if (!rep)
			return -EIO;
		json_object_put(rep);
		t[OP_CREATE][i] = t1 - t0;
		t[OP_MODIFY_RTS][i] = t2 - t1;
		t[OP_DESTROY][i] = now_us() - t2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2000;
	struct th_daemon d;
	double *t[OP_MAX];
	int err, rc = 0;

	if (n < 10 || n > 1000000) {
		fprintf(stderr, "usage: bench-qp [ITERATIONS 10..1000000]\n");
		return 2;
	}
	for (int o = 0; o < OP_MAX; o++) {
		t[o] = calloc((size_t)n, sizeof(double));
		if (!t[o])
			return 1;
	}
	if (th_daemon_start(&d)) {
		fprintf(stderr, "bench-qp: cannot start ciovd (set CIOV_CIOVD or CIOV_BUILD)\n");
		return 1;
	}
	err = bench_passthrough(&d, n, t);
	if (err) {
		fprintf(stderr, "bench-qp: passthrough: %s\n", strerror(-err));
		rc = 1;
	} else {
		for (int o = 0; o < OP_MAX; o++)
			report("passthrough", (enum bench_op)o, t[o], n);
	}
	err = bench_native(&d, n, t);
	if (err) {
		fprintf(stderr, "bench-qp: native (admin socket): %s\n", strerror(-err));
		rc = 1;
	} else {
		for (int o = 0; o < OP_MAX; o++)
			report("native-admin", (enum bench_op)o, t[o], n);
	}
	if (th_daemon_stop(&d) != 0)
		rc = 1;
	th_daemon_cleanup(&d);
	for (int o = 0; o < OP_MAX; o++)
		free(t[o]);
	return rc;
}
