/* SPDX-License-Identifier: MIT */
/*
 * Idle cost: ciovd with 100 endpoints, each with a tenant holding a
 * connected QP (RTS) and a CQ, and no traffic. Prints ciovd's CPU use over
 * a quiet interval as a share of one core (the limit: under 1%).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ciov/ciov.h>

#include "harness.h"
#include "stats.h"

#define N_EP 100
#define QUIET_S 5

static double cpu_seconds(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f)) {
		char *p = strrchr(buf, ')');

		/* Fields after the command: state is 3rd, utime 14th, stime 15th. */
		if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
				&st) != 2)
			ut = st = 0;
	}
	fclose(f);
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int connect_self(struct ciov_endpoint *ep, struct ciov_qp *qp)
{
	struct ciov_endpoint_attr ea;
	struct ciov_qp_attr a = {.qp_state = CIOV_QPS_INIT, .port_num = 1};

	if (ciov_query_endpoint(ep, &ea) ||
	    ciov_modify_qp(qp, &a, CIOV_QP_STATE | CIOV_QP_PKEY_INDEX | CIOV_QP_PORT |
					   CIOV_QP_ACCESS_FLAGS))
		return -1;
	a.qp_state = CIOV_QPS_RTR;
	a.path_mtu = CIOV_MTU_1024;
	a.dest_qp_num = qp->qp_num;
	a.ah_attr.port_num = 1;
	memcpy(a.ah_attr.dgid, ea.gid, 16);
	if (ciov_modify_qp(qp, &a, CIOV_QP_STATE | CIOV_QP_AV | CIOV_QP_PATH_MTU | CIOV_QP_DEST_QPN |
					   CIOV_QP_RQ_PSN | CIOV_QP_MAX_DEST_RD_ATOMIC |
					   CIOV_QP_MIN_RNR_TIMER))
		return -1;
	a.qp_state = CIOV_QPS_RTS;
	a.timeout = 14;
	a.retry_cnt = 7;
	a.rnr_retry = 7;
	return ciov_modify_qp(qp, &a, CIOV_QP_STATE | CIOV_QP_SQ_PSN | CIOV_QP_TIMEOUT |
					      CIOV_QP_RETRY_CNT | CIOV_QP_RNR_RETRY |
					      CIOV_QP_MAX_QP_RD_ATOMIC);
}

int main(void)
{
	struct ciov_endpoint *ep[N_EP];
	struct ciov_adapter *ad;
	struct th_daemon d;
	double c0, c1, t0, t1;

	if (th_daemon_start(&d) || ciov_adapter_open(NULL, &ad))
		return 1;
	for (int i = 0; i < N_EP; i++) {
		struct ciov_qp_init_attr qa = {.qp_type = CIOV_QPT_RC, .cap = {16, 16, 1, 1, 0}};
		struct ciov_pd *pd;
		struct ciov_qp *qp;
		struct ciov_cq *cq;

		json_object_put(th_admin_ok(&d, "{\"cmd\":\"endpoint.add\",\"name\":\"idle%d\"}", i));
		{
			char name[32];

			snprintf(name, sizeof(name), "idle%d", i);
			if (ciov_open_endpoint(ad, name, &ep[i]) || ciov_alloc_pd(ep[i], &pd) ||
			    ciov_create_cq(ep[i], 64, NULL, NULL, &cq))
				return 1;
		}
		qa.send_cq = qa.recv_cq = cq;
		if (ciov_create_qp(pd, &qa, &qp) || connect_self(ep[i], qp))
			return 1;
	}
	sleep(1); /* let the engine go to sleep */
	c0 = cpu_seconds(d.pid);
	t0 = now_us();
	sleep(QUIET_S);
	c1 = cpu_seconds(d.pid);
	t1 = now_us();
	printf("{\"bench\":\"idle\",\"endpoints\":%d,\"qps\":%d,\"seconds\":%.2f,"
	       "\"ciovd_cpu_percent_of_core\":%.3f,\"limit_percent\":1.0}\n",
	       N_EP, N_EP, (t1 - t0) / 1e6, 100.0 * (c1 - c0) / ((t1 - t0) / 1e6));
	for (int i = 0; i < N_EP; i++)
		ciov_close_endpoint(ep[i]);
	ciov_adapter_close(ad);
	th_daemon_stop(&d);
	th_daemon_cleanup(&d);
	return 0;
}
