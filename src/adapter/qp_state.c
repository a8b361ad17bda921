/* SPDX-License-Identifier: MIT */
/*
 * The QP state machine (IBA 10.3.1, figure 124) and Modify QP (IBA
 * 11.2.4.2) for RC and UD, as one table: for every (current, next) state
 * and QP type, whether the transition exists and which attributes it
 * requires and allows.
 *
 * Security model: the mask and every attribute come from the tenant.
 * Everything is checked on a private copy before the QP changes; a failed
 * modify changes nothing.
 */
#include <errno.h>
#include <stdbool.h>

#include "adapter/ah.h"
#include "adapter/ctl.h"
#include "adapter/endpoint.h"
#include "adapter/fabric/xport.h"
#include "adapter/qp.h"
#include "adapter/qp_state.h"

enum qpt_idx { QPT_IDX_RC, QPT_IDX_UD, QPT_IDX_MAX };

struct qp_rule {
	bool ok;
	uint32_t req; /* attributes the transition requires (besides STATE) */
	uint32_t opt; /* attributes it allows */
};

#define RULE(r, o) {.ok = true, .req = (r), .opt = (o)}
#define BOTH(rule) {[QPT_IDX_RC] = rule, [QPT_IDX_UD] = rule}

/* Attribute groups named as IBA 11.2.4.2 lists them. */
#define RC_INIT_REQ (CIOV_QP_PKEY_INDEX | CIOV_QP_PORT | CIOV_QP_ACCESS_FLAGS)
#define UD_INIT_REQ (CIOV_QP_PKEY_INDEX | CIOV_QP_PORT | CIOV_QP_QKEY)
#define RC_RTR_REQ                                                             \
	(CIOV_QP_AV | CIOV_QP_PATH_MTU | CIOV_QP_DEST_QPN | CIOV_QP_RQ_PSN |   \
	 CIOV_QP_MAX_DEST_RD_ATOMIC | CIOV_QP_MIN_RNR_TIMER)
#define RC_RTR_OPT (CIOV_QP_ALT_PATH | CIOV_QP_ACCESS_FLAGS | CIOV_QP_PKEY_INDEX)
#define UD_RTR_OPT (CIOV_QP_PKEY_INDEX | CIOV_QP_QKEY)
#define RC_RTS_REQ                                                             \
	(CIOV_QP_TIMEOUT | CIOV_QP_RETRY_CNT | CIOV_QP_RNR_RETRY | CIOV_QP_SQ_PSN | \
	 CIOV_QP_MAX_QP_RD_ATOMIC)
/* What may change while sending (RTR->RTS, RTS->RTS, SQD->RTS). */
#define RC_RTS_OPT                                                             \
	(CIOV_QP_CUR_STATE | CIOV_QP_ALT_PATH | CIOV_QP_ACCESS_FLAGS |         \
	 CIOV_QP_MIN_RNR_TIMER | CIOV_QP_PATH_MIG_STATE)
#define UD_RTS_OPT (CIOV_QP_CUR_STATE | CIOV_QP_QKEY)
/* SQD->SQD: the drained send queue may be re-pathed (IBA 10.3.1.6). */
#define RC_SQD_OPT                                                             \
	(CIOV_QP_PORT | CIOV_QP_AV | CIOV_QP_TIMEOUT | CIOV_QP_RETRY_CNT |     \
	 CIOV_QP_RNR_RETRY | CIOV_QP_MAX_QP_RD_ATOMIC | CIOV_QP_MAX_DEST_RD_ATOMIC | \
	 CIOV_QP_ALT_PATH | CIOV_QP_ACCESS_FLAGS | CIOV_QP_PKEY_INDEX |         \
	 CIOV_QP_MIN_RNR_TIMER | CIOV_QP_PATH_MIG_STATE)
#define UD_SQD_OPT (CIOV_QP_PKEY_INDEX | CIOV_QP_QKEY)

/* Every state may go to RESET and to ERR, with no attributes. */
#define TO_RESET_ERR                                                           \
	[CIOV_QPS_RESET] = BOTH(RULE(0, 0)), [CIOV_QPS_ERR] = BOTH(RULE(0, 0))

static const struct qp_rule qp_rules[CIOV_QPS_MAX][CIOV_QPS_MAX][QPT_IDX_MAX] = {
	[CIOV_QPS_RESET] = {
		TO_RESET_ERR,
		[CIOV_QPS_INIT] = {
			[QPT_IDX_RC] = RULE(RC_INIT_REQ, 0),
			[QPT_IDX_UD] = RULE(UD_INIT_REQ, 0),
		},
	},
	[CIOV_QPS_INIT] = {
		TO_RESET_ERR,
		[CIOV_QPS_INIT] = {
			[QPT_IDX_RC] = RULE(0, RC_INIT_REQ),
			[QPT_IDX_UD] = RULE(0, UD_INIT_REQ),
		},
		[CIOV_QPS_RTR] = {
			[QPT_IDX_RC] = RULE(RC_RTR_REQ, RC_RTR_OPT),
			[QPT_IDX_UD] = RULE(0, UD_RTR_OPT),
		},
	},
	[CIOV_QPS_RTR] = {
		TO_RESET_ERR,
		[CIOV_QPS_RTS] = {
			[QPT_IDX_RC] = RULE(RC_RTS_REQ, RC_RTS_OPT),
			[QPT_IDX_UD] = RULE(CIOV_QP_SQ_PSN, UD_RTS_OPT),
		},
	},
	[CIOV_QPS_RTS] = {
		TO_RESET_ERR,
		[CIOV_QPS_RTS] = {
			[QPT_IDX_RC] = RULE(0, RC_RTS_OPT),
			[QPT_IDX_UD] = RULE(0, UD_RTS_OPT),
		},
		[CIOV_QPS_SQD] = BOTH(RULE(0, CIOV_QP_EN_SQD_ASYNC_NOTIFY)),
	},
	[CIOV_QPS_SQD] = {
		TO_RESET_ERR,
		[CIOV_QPS_RTS] = {
			[QPT_IDX_RC] = RULE(0, RC_RTS_OPT),
			[QPT_IDX_UD] = RULE(0, UD_RTS_OPT),
		},
		[CIOV_QPS_SQD] = {
			[QPT_IDX_RC] = RULE(0, RC_SQD_OPT),
			[QPT_IDX_UD] = RULE(0, UD_SQD_OPT),
		},
	},
	[CIOV_QPS_SQE] = {
		TO_RESET_ERR,
		/* IBA 10.3.1.7: only unreliable QPs enter SQE; RC goes to ERR. */
		[CIOV_QPS_RTS] = {
			[QPT_IDX_UD] = RULE(0, UD_RTS_OPT),
		},
	},
	[CIOV_QPS_ERR] = {
		TO_RESET_ERR,
	},
};

static int qpt_idx(enum ciov_qp_type type)
{
	switch (type) {
	case CIOV_QPT_RC:
		return QPT_IDX_RC;
	case CIOV_QPT_UD:
		return QPT_IDX_UD;
	}
	return -EINVAL;
}

int qp_transition_check(enum ciov_qp_type type, enum ciov_qp_state cur,
			enum ciov_qp_state next, uint32_t mask)
{
	const struct qp_rule *r;
	int t = qpt_idx(type);

	if (t < 0 || (unsigned)cur >= CIOV_QPS_MAX || (unsigned)next >= CIOV_QPS_MAX)
		return -EINVAL;
	r = &qp_rules[cur][next][t];
	mask &= ~(uint32_t)CIOV_QP_STATE;
	if (!r->ok || (mask & r->req) != r->req || (mask & ~(r->req | r->opt)))
		return -EINVAL;
	return 0;
}

/* Attributes that are plain numbers with an upper bound. */
#define QP_ATTR_BOUNDS(X)                                                      \
	X(CIOV_QP_PKEY_INDEX, pkey_index, 0)	 /* one P_Key: 0xffff */     \
	X(CIOV_QP_TIMEOUT, timeout, 31)		 /* IBA 9.7.6.1.3: 5 bits */ \
	X(CIOV_QP_RETRY_CNT, retry_cnt, 7)	 /* 3 bits */                \
	X(CIOV_QP_RNR_RETRY, rnr_retry, 7)	 /* 3 bits, 7 = forever */   \
	X(CIOV_QP_MIN_RNR_TIMER, min_rnr_timer, 31) /* IBA table 45 */       \
	X(CIOV_QP_RQ_PSN, rq_psn, 0xffffff)	 /* PSNs are 24 bits */      \
	X(CIOV_QP_SQ_PSN, sq_psn, 0xffffff)                                    \
	X(CIOV_QP_DEST_QPN, dest_qp_num, QPN_MASK)                             \
	X(CIOV_QP_MAX_QP_RD_ATOMIC, max_rd_atomic, QP_MAX_RD_ATOMIC)           \
	X(CIOV_QP_MAX_DEST_RD_ATOMIC, max_dest_rd_atomic, QP_MAX_RD_ATOMIC)    \
	X(CIOV_QP_EN_SQD_ASYNC_NOTIFY, en_sqd_async_notify, 1)

/* Attributes stored as given, by mask bit. */
#define QP_ATTR_FIELDS(X)                                                      \
	X(CIOV_QP_ACCESS_FLAGS, qp_access_flags)                               \
	X(CIOV_QP_PKEY_INDEX, pkey_index)                                      \
	X(CIOV_QP_PORT, port_num)                                              \
	X(CIOV_QP_QKEY, qkey)                                                  \
	X(CIOV_QP_AV, ah_attr)                                                 \
	X(CIOV_QP_PATH_MTU, path_mtu)                                          \
	X(CIOV_QP_TIMEOUT, timeout)                                            \
	X(CIOV_QP_RETRY_CNT, retry_cnt)                                        \
	X(CIOV_QP_RNR_RETRY, rnr_retry)                                        \
	X(CIOV_QP_RQ_PSN, rq_psn)                                              \
	X(CIOV_QP_MAX_QP_RD_ATOMIC, max_rd_atomic)                             \
	X(CIOV_QP_MIN_RNR_TIMER, min_rnr_timer)                                \
	X(CIOV_QP_SQ_PSN, sq_psn)                                              \
	X(CIOV_QP_MAX_DEST_RD_ATOMIC, max_dest_rd_atomic)                      \
	X(CIOV_QP_DEST_QPN, dest_qp_num)                                       \
	X(CIOV_QP_EN_SQD_ASYNC_NOTIFY, en_sqd_async_notify)

/* Access rights a QP grants to remote requests (IBA 10.2.4.2). LOCAL_WRITE
 * means nothing for a QP; it is accepted and ignored because verbs
 * applications commonly pass it. */
#define QP_ACCESS_ALLOWED                                                      \
	(CIOV_ACCESS_REMOTE_WRITE | CIOV_ACCESS_REMOTE_READ | CIOV_ACCESS_REMOTE_ATOMIC | \
	 CIOV_ACCESS_LOCAL_WRITE)

int qp_attr_check(enum ciov_qp_type type, uint32_t mask, const struct ciov_qp_attr_wire *attr,
		  unsigned nports)
{
#define X(bit, field, max)                                                     \
	if ((mask & (bit)) && attr->field > (max))                             \
		return -EINVAL;
	QP_ATTR_BOUNDS(X)
#undef X
	if ((mask & CIOV_QP_PORT) && attr->port_num != CIOV_PORT_NUM)
		return -EINVAL;
	if ((mask & CIOV_QP_PATH_MTU) &&
	    (attr->path_mtu < CIOV_MTU_256 || attr->path_mtu > CIOV_MTU_4096))
		return -EINVAL;
	if ((mask & CIOV_QP_ACCESS_FLAGS) && (attr->qp_access_flags & ~QP_ACCESS_ALLOWED))
		return -EINVAL;
	if ((mask & CIOV_QP_AV) && ah_attr_check(&attr->ah_attr, nports))
		return -EINVAL;
	/* No alternate path: automatic path migration is not implemented. */
	if (mask & (CIOV_QP_ALT_PATH | CIOV_QP_PATH_MIG_STATE))
		return -EOPNOTSUPP;
	(void)type; /* which attributes apply is the table's business */
	return 0;
}

/* Entering RESET: empty queues, attributes back to their initial values
 * (IBA 10.3.1.1). Nothing is flushed. */
static void qp_enter_reset(struct qp *qp)
{
	qp->attr = (struct ciov_qp_attr_wire){0};
	ring_reset(&qp->sq);
	if (!qp->srq)
		ring_reset(&qp->rq);
}

/* Entering ERR: the tenant sees the queues in error and every outstanding
 * WR completes with WR_FLUSH_ERR (IBA 10.3.1.8). */
static void qp_enter_err(struct qp *qp)
{
	engine_qp_error(qp);
}

int qp_modify(struct qp *qp, uint32_t mask, const struct ciov_qp_attr_wire *attr)
{
	enum ciov_qp_state cur = qp->state;
	enum ciov_qp_state next = cur;
	struct ciov_qp_attr_wire n;
	int err;

	if (mask & ~QP_ATTR_MASK_ALL)
		return -EINVAL;
	if (mask & CIOV_QP_STATE) {
		if (attr->qp_state >= CIOV_QPS_MAX)
			return -EINVAL;
		next = (enum ciov_qp_state)attr->qp_state;
	}
	/* The consumer's idea of the current state must be right. */
	if ((mask & CIOV_QP_CUR_STATE) && attr->cur_qp_state != cur)
		return -EINVAL;
	err = qp_transition_check(qp->type, cur, next, mask);
	if (err)
		return err;
	err = qp_attr_check(qp->type, mask, attr, qp->obj.ep->ad->nports);
	if (err)
		return err;

	/* Checked: commit. */
	n = qp->attr;
#define X(bit, field)                                                          \
	if (mask & (bit))                                                      \
		n.field = attr->field;
	QP_ATTR_FIELDS(X)
#undef X
	if (qp->type == CIOV_QPT_RC && next == CIOV_QPS_RTR && cur != CIOV_QPS_RTR) {
		err = xport_connect_check(qp, &n);
		if (err)
			return err;
	}
	qp->attr = n;
	qp->state = next;
	if (next == cur)
		return 0;
	switch (next) {
	case CIOV_QPS_RESET:
		qp_enter_reset(qp);
		break;
	case CIOV_QPS_ERR:
		qp_enter_err(qp);
		break;
	case CIOV_QPS_SQD:
		/* The engine finishes the message in hand and starts no
		 * other: the SQ is drained when that one completes. */
		qp->attr.sq_draining = 0;
		break;
	default:
		break;
	}
	engine_qp_modified(&qp->obj.ep->ad->engine, qp);
	return 0;
}

int ctl_qp_modify(struct caller *c, const struct ciov_ctl_qp_modify_req *rq,
		  struct ciov_ctl_none *rp, int *fds_in, int *fds_out)
{
	struct qp *qp;
	int err = qp_lookup(c, rq->handle, &qp);

	if (err)
		return err;
	return qp_modify(qp, rq->mask, &rq->attr);
}
