/* SPDX-License-Identifier: MIT */
/* Shared by test programs that drive libciov directly: an RC QP connected
 * to (DGID, DQPN) through INIT (when still in RESET), RTR and RTS. */
#ifndef CIOV_TEST_RC_CONNECT_H
#define CIOV_TEST_RC_CONNECT_H

#include <stdint.h>
#include <string.h>

#include <ciov/ciov.h>

/* SGID is the source GID index (0: the endpoint's), TIMEOUT and RETRY_CNT
 * the requester's (IBA 11.2.4.2). 0, or the first modify's -errno. */
static inline int th_rc_connect(struct ciov_qp *qp, const uint8_t *dgid, uint32_t dqpn,
				uint8_t sgid, uint8_t timeout, uint8_t retry_cnt)
{
	struct ciov_qp_attr a = {0};
	int err;

	if (qp->state == CIOV_QPS_RESET) {
		a.qp_state = CIOV_QPS_INIT;
		a.port_num = 1;
		a.qp_access_flags = CIOV_ACCESS_REMOTE_WRITE | CIOV_ACCESS_REMOTE_READ;
		err = ciov_modify_qp(qp, &a, CIOV_QP_STATE | CIOV_QP_PKEY_INDEX | CIOV_QP_PORT |
						     CIOV_QP_ACCESS_FLAGS);
		if (err)
			return err;
	}
	a.qp_state = CIOV_QPS_RTR;
	a.path_mtu = CIOV_MTU_4096; /* capped by the port's */
	a.dest_qp_num = dqpn;
	memcpy(a.ah_attr.dgid, dgid, 16);
	a.ah_attr.port_num = 1;
	a.ah_attr.sgid_index = sgid;
	a.ah_attr.hop_limit = 64;
	a.max_dest_rd_atomic = 16;
	a.min_rnr_timer = 1;
	err = ciov_modify_qp(qp, &a, CIOV_QP_STATE | CIOV_QP_AV | CIOV_QP_PATH_MTU |
					     CIOV_QP_DEST_QPN | CIOV_QP_RQ_PSN |
					     CIOV_QP_MAX_DEST_RD_ATOMIC | CIOV_QP_MIN_RNR_TIMER);
	if (err)
		return err;
	a.qp_state = CIOV_QPS_RTS;
	a.timeout = timeout;
	a.retry_cnt = retry_cnt;
	a.rnr_retry = 7;
	a.max_rd_atomic = 16;
	return ciov_modify_qp(qp, &a, CIOV_QP_STATE | CIOV_QP_SQ_PSN | CIOV_QP_TIMEOUT |
					      CIOV_QP_RETRY_CNT | CIOV_QP_RNR_RETRY |
					      CIOV_QP_MAX_QP_RD_ATOMIC);
}

#endif
