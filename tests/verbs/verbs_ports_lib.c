/* SPDX-License-Identifier: MIT */
/*
 * libciov's view of the adapter's fabric ports, run by verbs_ports.sh
 * against two adapters (A and B, each with ports p0 and p1):
 *
 *   verbs_ports_lib RUNTIME_A RUNTIME_B ENDPOINT SGID_INDEX "NAME GID MTU"...
 *
 * checks that ciov_query_endpoint() counts A's ports and that
 * ciov_query_port() reports each as given (name, RoCEv2 GID, active MTU,
 * ACTIVE, source GID index 1 + i), with -EINVAL past the last; that an AH
 * or an RC path naming a source GID index past the ports is refused with
 * -EINVAL and changes nothing; then connects an RC QP on A to one on B,
 * both with SGID_INDEX, and moves verified SENDs and an RDMA WRITE between
 * them. The script reads the port counters: the packets must have used
 * that port only. Exit 0 pass, 1 fail.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ciov/ciov.h>

#include "../harness/rc_connect.h"

#define MSGS 32
#define MSG_LEN 4000 /* two packets at 2048, four at 1024 */

static int fails;

#define CHECK(x)                                                               \
	do {                                                                   \
		int e_ = (x);                                                  \
		if (e_ < 0) {                                                  \
			fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #x, \
				strerror(-e_));                                \
			exit(1);                                               \
		}                                                              \
	} while (0)

#define EXPECT(cond, ...)                                                      \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);   \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
			fails++;                                               \
		}                                                              \
	} while (0)

struct side {
	struct ciov_adapter *ad;
	struct ciov_endpoint *ep;
	struct ciov_pd *pd;
	struct ciov_cq *cq;
	struct ciov_qp *qp;
	struct ciov_mr *mr;
	uint8_t *buf;
	uint8_t gid[16]; /* of the chosen port */
};

static void side_open(struct side *s, const char *rt, const char *endpoint)
{
	CHECK(ciov_adapter_open(rt, &s->ad));
	CHECK(ciov_open_endpoint(s->ad, endpoint, &s->ep));
	CHECK(ciov_alloc_pd(s->ep, &s->pd));
}

static void side_qp(struct side *s)
{
	struct ciov_qp_init_attr ia = {
		.qp_type = CIOV_QPT_RC,
		.cap = {.max_send_wr = MSGS + 1, .max_recv_wr = MSGS, .max_send_sge = 1,
			.max_recv_sge = 1},
		.sq_sig_all = 1,
	};
	size_t len = (size_t)MSGS * MSG_LEN + MSG_LEN, page = (size_t)sysconf(_SC_PAGESIZE);

	len = (len + page - 1) / page * page;
	s->buf = aligned_alloc(page, len);
	if (!s->buf) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	memset(s->buf, 0, len);
	CHECK(ciov_reg_mr(s->pd, s->buf, len, CIOV_ACCESS_ALL, &s->mr));
	CHECK(ciov_create_cq(s->ep, 2 * MSGS + 2, NULL, NULL, &s->cq));
	ia.send_cq = ia.recv_cq = s->cq;
	CHECK(ciov_create_qp(s->pd, &ia, &s->qp));
}

/* INIT, then RTR to (DGID, DQPN) from source GID index SGID, then RTS. */
static int connect_qp(struct ciov_qp *qp, const uint8_t *dgid, uint32_t dqpn, uint8_t sgid)
{
	return th_rc_connect(qp, dgid, dqpn, sgid, 14, 7);
}

/* Waits for N successful completions on CQ (10 s at most). */
static void wait_cq(struct ciov_cq *cq, int n, const char *what)
{
	struct timespec t0, t;
	struct ciov_wc wc[16];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (n > 0) {
		int got = ciov_poll_cq(cq, n < 16 ? n : 16, wc);

		CHECK(got);
		for (int i = 0; i < got; i++)
			if (wc[i].status != CIOV_WC_SUCCESS) {
				fprintf(stderr, "%s: completion %s\n", what,
					ciov_wc_status_str(wc[i].status));
				exit(1);
			}
		n -= got;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 10) {
			fprintf(stderr, "%s: %d completions missing after 10 s\n", what, n);
			exit(1);
		}
		if (!got)
			usleep(100);
	}
}

static void check_ports(struct ciov_endpoint *ep, char **spec, int n)
{
	struct ciov_endpoint_attr ea;
	struct ciov_port_attr pa;

	CHECK(ciov_query_endpoint(ep, &ea));
	EXPECT(ea.num_ports == (uint32_t)n, "num_ports %u, want %d", ea.num_ports, n);
	for (int i = 0; i < n; i++) {
		char name[CIOV_PORT_NAME_MAX], gid_s[INET6_ADDRSTRLEN];
		uint8_t gid[16];
		unsigned mtu;

		if (sscanf(spec[i], "%15s %45s %u", name, gid_s, &mtu) != 3 ||
		    inet_pton(AF_INET6, gid_s, gid) != 1) {
			fprintf(stderr, "bad port spec '%s'\n", spec[i]);
			exit(1);
		}
		CHECK(ciov_query_port(ep, (unsigned)i, &pa));
		EXPECT(strcmp(pa.name, name) == 0, "port %d: name '%s', want '%s'", i, pa.name, name);
		EXPECT(memcmp(pa.gid, gid, 16) == 0, "port %d: not GID %s", i, gid_s);
		EXPECT(pa.active_mtu == mtu, "port %d: active_mtu %u, want %u", i, pa.active_mtu, mtu);
		EXPECT(pa.state == CIOV_PORT_ACTIVE, "port %d: state %d", i, pa.state);
		EXPECT(pa.sgid_index == i + 1, "port %d: sgid_index %u", i, pa.sgid_index);
		/* GID index 0, the endpoint's, is the first port's */
		if (i == 0)
			EXPECT(memcmp(ea.gid, gid, 16) == 0, "the endpoint's GID is not port 0's");
		printf("port %d: %s %s mtu %u sgid_index %u\n", i, pa.name, gid_s, pa.active_mtu,
		       pa.sgid_index);
	}
	EXPECT(ciov_query_port(ep, (unsigned)n, &pa) == -EINVAL, "a port past the last");
}

int main(int argc, char **argv)
{
	struct side a = {0}, b = {0};
	struct ciov_port_attr pa;
	struct ciov_ah_attr av = {.port_num = 1, .hop_limit = 64};
	struct ciov_ah *ah;
	int nports = argc - 5;
	uint8_t sgid;

	if (argc < 6) {
		fprintf(stderr, "usage: %s RUNTIME_A RUNTIME_B ENDPOINT SGID_INDEX \"NAME GID MTU\"...\n",
			argv[0]);
		return 1;
	}
	sgid = (uint8_t)atoi(argv[4]);
	side_open(&a, argv[1], argv[3]);
	side_open(&b, argv[2], argv[3]);
	check_ports(a.ep, argv + 5, nports);

	/* The chosen port's GID on each side. */
	CHECK(ciov_query_port(a.ep, sgid - 1u, &pa));
	memcpy(a.gid, pa.gid, 16);
	CHECK(ciov_query_port(b.ep, sgid - 1u, &pa));
	memcpy(b.gid, pa.gid, 16);

	/* An AH may name any entry of the GID table, and none past it. */
	memcpy(av.dgid, b.gid, 16);
	av.sgid_index = (uint8_t)(nports + 1);
	EXPECT(ciov_create_ah(a.pd, &av, &ah) == -EINVAL, "AH with sgid_index %d", nports + 1);
	for (int i = 0; i <= nports; i++) {
		av.sgid_index = (uint8_t)i;
		EXPECT(ciov_create_ah(a.pd, &av, &ah) == 0, "AH with sgid_index %d", i);
		if (!fails)
			CHECK(ciov_destroy_ah(ah));
	}

	side_qp(&a);
	side_qp(&b);
	/* A path from a port the adapter does not have: refused, QP in INIT. */
	EXPECT(connect_qp(a.qp, b.gid, b.qp->qp_num, (uint8_t)(nports + 1)) == -EINVAL,
	       "RTR with sgid_index %d", nports + 1);
	{
		struct ciov_qp_attr q;

		CHECK(ciov_query_qp(a.qp, &q));
		EXPECT(q.qp_state == CIOV_QPS_INIT, "a refused RTR left state %u", q.qp_state);
	}
	CHECK(connect_qp(a.qp, b.gid, b.qp->qp_num, sgid));
	CHECK(connect_qp(b.qp, a.gid, a.qp->qp_num, sgid));

	/* SENDs A -> B, then an RDMA WRITE B -> A; the data compared. */
	for (int i = 0; i < MSGS; i++) {
		struct ciov_sge sge = {.addr = b.mr->iova + (uint64_t)i * MSG_LEN,
				       .length = MSG_LEN, .lkey = b.mr->lkey};
		struct ciov_recv_wr wr = {.wr_id = (uint64_t)i, .sg_list = &sge, .num_sge = 1};

		CHECK(ciov_post_recv(b.qp, &wr, NULL));
	}
	for (int i = 0; i < MSGS; i++) {
		uint8_t *m = a.buf + (size_t)i * MSG_LEN;
		struct ciov_sge sge = {.addr = a.mr->iova + (uint64_t)i * MSG_LEN,
				       .length = MSG_LEN, .lkey = a.mr->lkey};
		struct ciov_send_wr wr = {.wr_id = (uint64_t)i, .sg_list = &sge, .num_sge = 1,
					  .opcode = CIOV_WR_SEND, .send_flags = CIOV_SEND_SIGNALED};

		for (int k = 0; k < MSG_LEN; k++)
			m[k] = (uint8_t)(i * 31 + k * 7 + 1);
		CHECK(ciov_post_send(a.qp, &wr, NULL));
	}
	wait_cq(a.cq, MSGS, "A's SENDs");
	wait_cq(b.cq, MSGS, "B's receives");
	EXPECT(memcmp(a.buf, b.buf, (size_t)MSGS * MSG_LEN) == 0, "SEND data differs");
	{
		size_t off = (size_t)MSGS * MSG_LEN;
		struct ciov_sge sge = {.addr = b.mr->iova + off, .length = MSG_LEN,
				       .lkey = b.mr->lkey};
		struct ciov_send_wr wr = {.wr_id = 99, .sg_list = &sge, .num_sge = 1,
					  .opcode = CIOV_WR_RDMA_WRITE,
					  .send_flags = CIOV_SEND_SIGNALED};

		for (int k = 0; k < MSG_LEN; k++)
			b.buf[off + k] = (uint8_t)(k * 13 + 5);
		wr.wr.rdma.remote_addr = a.mr->iova + off;
		wr.wr.rdma.rkey = a.mr->rkey;
		CHECK(ciov_post_send(b.qp, &wr, NULL));
		wait_cq(b.cq, 1, "B's WRITE");
		EXPECT(memcmp(a.buf + off, b.buf + off, MSG_LEN) == 0, "WRITE data differs");
	}
	printf("%d SENDs A->B and a WRITE B->A of %d bytes from sgid_index %u: verified\n", MSGS,
	       MSG_LEN, sgid);

	ciov_close_endpoint(a.ep);
	ciov_close_endpoint(b.ep);
	ciov_adapter_close(a.ad);
	ciov_adapter_close(b.ad);
	free(a.buf);
	free(b.buf);
	return fails ? 1 : 0;
}
