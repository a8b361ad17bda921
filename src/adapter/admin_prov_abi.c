/* SPDX-License-Identifier: MIT */
/*
 * abi.h's control structs in JSON terms, for the admin socket's
 * provisioning commands (doc/admin-protocol.md). JSON member names are the
 * C member names; widths and offsets come from the structs themselves.
 * Members that mean nothing over JSON (reserved words, ring offsets of an
 * fd the manager never sees) are left out: a request leaves them zero.
 */
#include <ciov/ciov.h>

#include "adapter/admin_prov.h"

/* ------------------------------------------------------------------------ */
/* Name tables. */

static const struct codec_name qp_state_v[] = {
#define X(n, v) {#n, CIOV_QPS_##n},
	CIOV_QP_STATES(X)
#undef X
};
static const struct codec_names qp_state_names = CODEC_NAMES(qp_state_v);

static const struct codec_name obj_type_v[] = {
#define X(N, s) {#s, CIOV_OBJ_##N},
	CIOV_OBJ_TYPES(X)
#undef X
};
static const struct codec_names obj_type_names = CODEC_NAMES(obj_type_v);

static const struct codec_name qp_type_v[] = {
	{"rc", CIOV_QPT_RC},
	{"ud", CIOV_QPT_UD},
};
static const struct codec_names qp_type_names = CODEC_NAMES(qp_type_v);

/* Path MTU: JSON carries the byte count, the struct enum ciov_mtu. */
static const struct codec_name mtu_v[] = {
	{"256", CIOV_MTU_256},	 {"512", CIOV_MTU_512},	  {"1024", CIOV_MTU_1024},
	{"2048", CIOV_MTU_2048}, {"4096", CIOV_MTU_4096},
};
static const struct codec_names mtu_names = CODEC_NUMERIC_NAMES(mtu_v);

static const struct codec_name access_v[] = {
	{"local_write", CIOV_ACCESS_LOCAL_WRITE},
	{"remote_write", CIOV_ACCESS_REMOTE_WRITE},
	{"remote_read", CIOV_ACCESS_REMOTE_READ},
	{"remote_atomic", CIOV_ACCESS_REMOTE_ATOMIC},
};
static const struct codec_names access_names = CODEC_NAMES(access_v);

/* libibverbs' IBV_QP_* names without the prefix. */
static const struct codec_name qp_attr_mask_v[] = {
	{"state", CIOV_QP_STATE},
	{"cur_state", CIOV_QP_CUR_STATE},
	{"en_sqd_async_notify", CIOV_QP_EN_SQD_ASYNC_NOTIFY},
	{"access_flags", CIOV_QP_ACCESS_FLAGS},
	{"pkey_index", CIOV_QP_PKEY_INDEX},
	{"port", CIOV_QP_PORT},
	{"qkey", CIOV_QP_QKEY},
	{"av", CIOV_QP_AV},
	{"path_mtu", CIOV_QP_PATH_MTU},
	{"timeout", CIOV_QP_TIMEOUT},
	{"retry_cnt", CIOV_QP_RETRY_CNT},
	{"rnr_retry", CIOV_QP_RNR_RETRY},
	{"rq_psn", CIOV_QP_RQ_PSN},
	{"max_qp_rd_atomic", CIOV_QP_MAX_QP_RD_ATOMIC},
	{"alt_path", CIOV_QP_ALT_PATH},
	{"min_rnr_timer", CIOV_QP_MIN_RNR_TIMER},
	{"sq_psn", CIOV_QP_SQ_PSN},
	{"max_dest_rd_atomic", CIOV_QP_MAX_DEST_RD_ATOMIC},
	{"path_mig_state", CIOV_QP_PATH_MIG_STATE},
	{"cap", CIOV_QP_CAP},
	{"dest_qpn", CIOV_QP_DEST_QPN},
};
static const struct codec_names qp_attr_mask_names = CODEC_NAMES(qp_attr_mask_v);

static const struct codec_name srq_attr_mask_v[] = {
	{"max_wr", CIOV_SRQ_MAX_WR},
	{"srq_limit", CIOV_SRQ_LIMIT},
};
static const struct codec_names srq_attr_mask_names = CODEC_NAMES(srq_attr_mask_v);

/* ------------------------------------------------------------------------ */
/* Structs with no JSON form. */

CODEC_OPAQUE(ciov_ctl_none);
CODEC_OPAQUE(ciov_ctl_open_req);  /* tenants only */
CODEC_OPAQUE(ciov_ctl_open_rep);  /* tenants only */
CODEC_OPAQUE(ciov_ctl_query_ep_rep); /* endpoint.show says more */
CODEC_OPAQUE(ciov_ctl_query_ports_rep); /* port.show says more */
CODEC_OPAQUE(ciov_ctl_list_rep);  /* obj.list pages it into "handles" */

/* ------------------------------------------------------------------------ */
/* Shared pieces. */

static const struct codec_field handle_f[] = {
	CF_U(ciov_ctl_handle, handle, CF_REQ),
};
CODEC_STRUCT(ciov_ctl_handle, handle_f);

static const struct codec_field close_req_f[] = {
	CF_E(ciov_ctl_close_req, type, obj_type_names, CF_REQ),
	CF_U(ciov_ctl_close_req, handle, CF_REQ),
};
CODEC_STRUCT(ciov_ctl_close_req, close_req_f);

static const struct codec_field list_req_f[] = {
	CF_E(ciov_ctl_list_req, type, obj_type_names, CF_REQ),
};
CODEC_STRUCT(ciov_ctl_list_req, list_req_f);

static const struct codec_field qp_cap_f[] = {
	CF_U(ciov_qp_cap, max_send_wr),	 CF_U(ciov_qp_cap, max_recv_wr),
	CF_U(ciov_qp_cap, max_send_sge), CF_U(ciov_qp_cap, max_recv_sge),
	CF_U(ciov_qp_cap, max_inline_data),
};
CODEC_STRUCT(ciov_qp_cap, qp_cap_f);

static const struct codec_field ah_attr_f[] = {
	CF_G(ciov_ah_attr, dgid),	  CF_U(ciov_ah_attr, flow_label),
	CF_U(ciov_ah_attr, sgid_index),	  CF_U(ciov_ah_attr, hop_limit),
	CF_U(ciov_ah_attr, traffic_class), CF_U(ciov_ah_attr, sl),
	CF_U(ciov_ah_attr, port_num),	  CF_U(ciov_ah_attr, static_rate),
	CF_U(ciov_ah_attr, dlid),
};
CODEC_STRUCT(ciov_ah_attr, ah_attr_f);

static const struct codec_field qp_attr_f[] = {
	CF_E(ciov_qp_attr_wire, qp_state, qp_state_names),
	CF_E(ciov_qp_attr_wire, cur_qp_state, qp_state_names),
	CF_E(ciov_qp_attr_wire, path_mtu, mtu_names),
	CF_U(ciov_qp_attr_wire, qkey),
	CF_U(ciov_qp_attr_wire, rq_psn),
	CF_U(ciov_qp_attr_wire, sq_psn),
	CF_U(ciov_qp_attr_wire, dest_qp_num),
	CF_F(ciov_qp_attr_wire, qp_access_flags, access_names),
	CF_S(ciov_qp_attr_wire, cap, ciov_qp_cap),
	CF_S(ciov_qp_attr_wire, ah_attr, ciov_ah_attr),
	CF_U(ciov_qp_attr_wire, pkey_index),
	CF_B(ciov_qp_attr_wire, en_sqd_async_notify),
	CF_B(ciov_qp_attr_wire, sq_draining),
	CF_U(ciov_qp_attr_wire, max_rd_atomic),
	CF_U(ciov_qp_attr_wire, max_dest_rd_atomic),
	CF_U(ciov_qp_attr_wire, min_rnr_timer),
	CF_U(ciov_qp_attr_wire, port_num),
	CF_U(ciov_qp_attr_wire, timeout),
	CF_U(ciov_qp_attr_wire, retry_cnt),
	CF_U(ciov_qp_attr_wire, rnr_retry),
};
CODEC_STRUCT(ciov_qp_attr_wire, qp_attr_f);

/* ------------------------------------------------------------------------ */
/* Segments and MRs. */

static const struct codec_field seg_attach_req_f[] = {
	CF_U(ciov_ctl_seg_attach_req, iova, CF_REQ),
	CF_U(ciov_ctl_seg_attach_req, length, CF_REQ),
	CF_U(ciov_ctl_seg_attach_req, offset),
};
CODEC_STRUCT(ciov_ctl_seg_attach_req, seg_attach_req_f);

static const struct codec_field seg_rep_f[] = {
	CF_U(ciov_ctl_seg_rep, handle),
	CF_U(ciov_ctl_seg_rep, iova),
	CF_U(ciov_ctl_seg_rep, length),
	CF_U(ciov_ctl_seg_rep, offset),
};
CODEC_STRUCT(ciov_ctl_seg_rep, seg_rep_f);

static const struct codec_field mr_reg_req_f[] = {
	CF_U(ciov_ctl_mr_reg_req, pd, CF_REQ),
	CF_F(ciov_ctl_mr_reg_req, access, access_names),
	CF_U(ciov_ctl_mr_reg_req, iova, CF_REQ),
	CF_U(ciov_ctl_mr_reg_req, length, CF_REQ),
};
CODEC_STRUCT(ciov_ctl_mr_reg_req, mr_reg_req_f);

static const struct codec_field mr_rep_f[] = {
	CF_U(ciov_ctl_mr_rep, handle), CF_U(ciov_ctl_mr_rep, pd),
	CF_U(ciov_ctl_mr_rep, lkey),   CF_U(ciov_ctl_mr_rep, rkey),
	CF_U(ciov_ctl_mr_rep, iova),   CF_U(ciov_ctl_mr_rep, length),
	CF_F(ciov_ctl_mr_rep, access, access_names),
};
CODEC_STRUCT(ciov_ctl_mr_rep, mr_rep_f);

/* ------------------------------------------------------------------------ */
/* Channels and CQs. The manager binds no channel: a tenant binds its own
 * when it opens the CQ (CQ_OPEN), so cq.create has no "channel". */

static const struct codec_field chan_rep_f[] = {
	CF_U(ciov_ctl_chan_rep, handle),
};
CODEC_STRUCT(ciov_ctl_chan_rep, chan_rep_f);

static const struct codec_field cq_create_req_f[] = {
	CF_U(ciov_ctl_cq_create_req, cqe, CF_REQ),
};
CODEC_STRUCT(ciov_ctl_cq_create_req, cq_create_req_f);

static const struct codec_field cq_rep_f[] = {
	CF_U(ciov_ctl_cq_rep, handle),
	CF_U(ciov_ctl_cq_rep, cqe),
};
CODEC_STRUCT(ciov_ctl_cq_rep, cq_rep_f);

static const struct codec_field cq_open_req_f[] = {
	CF_U(ciov_ctl_cq_open_req, handle, CF_REQ),
	CF_U(ciov_ctl_cq_open_req, channel),
};
CODEC_STRUCT(ciov_ctl_cq_open_req, cq_open_req_f);

/* ------------------------------------------------------------------------ */
/* SRQs. */

static const struct codec_field srq_create_req_f[] = {
	CF_U(ciov_ctl_srq_create_req, pd, CF_REQ),
	CF_U(ciov_ctl_srq_create_req, max_wr, CF_REQ),
	CF_U(ciov_ctl_srq_create_req, max_sge, CF_REQ),
	CF_U(ciov_ctl_srq_create_req, srq_limit),
};
CODEC_STRUCT(ciov_ctl_srq_create_req, srq_create_req_f);

static const struct codec_field srq_modify_req_f[] = {
	CF_U(ciov_ctl_srq_modify_req, handle, CF_REQ),
	CF_F(ciov_ctl_srq_modify_req, mask, srq_attr_mask_names, CF_REQ),
	CF_U(ciov_ctl_srq_modify_req, max_wr),
	CF_U(ciov_ctl_srq_modify_req, srq_limit),
};
CODEC_STRUCT(ciov_ctl_srq_modify_req, srq_modify_req_f);

static const struct codec_field srq_rep_f[] = {
	CF_U(ciov_ctl_srq_rep, handle),	 CF_U(ciov_ctl_srq_rep, pd),
	CF_U(ciov_ctl_srq_rep, max_wr),	 CF_U(ciov_ctl_srq_rep, max_sge),
	CF_U(ciov_ctl_srq_rep, srq_limit),
};
CODEC_STRUCT(ciov_ctl_srq_rep, srq_rep_f);

/* ------------------------------------------------------------------------ */
/* QPs and AHs. */

static const struct codec_field qp_create_req_f[] = {
	CF_U(ciov_ctl_qp_create_req, pd, CF_REQ),
	CF_E(ciov_ctl_qp_create_req, qp_type, qp_type_names, CF_REQ),
	CF_U(ciov_ctl_qp_create_req, send_cq, CF_REQ),
	CF_U(ciov_ctl_qp_create_req, recv_cq, CF_REQ),
	CF_U(ciov_ctl_qp_create_req, srq),
	CF_B(ciov_ctl_qp_create_req, sq_sig_all),
	CF_S(ciov_ctl_qp_create_req, cap, ciov_qp_cap, CF_REQ),
};
CODEC_STRUCT(ciov_ctl_qp_create_req, qp_create_req_f);

static const struct codec_field qp_rep_f[] = {
	CF_U(ciov_ctl_qp_rep, handle),
	CF_U(ciov_ctl_qp_rep, qpn),
	CF_U(ciov_ctl_qp_rep, pd),
	CF_E(ciov_ctl_qp_rep, qp_type, qp_type_names),
	CF_U(ciov_ctl_qp_rep, send_cq),
	CF_U(ciov_ctl_qp_rep, recv_cq),
	CF_U(ciov_ctl_qp_rep, srq),
	CF_B(ciov_ctl_qp_rep, sq_sig_all),
	CF_S(ciov_ctl_qp_rep, cap, ciov_qp_cap),
};
CODEC_STRUCT(ciov_ctl_qp_rep, qp_rep_f);

static const struct codec_field qp_modify_req_f[] = {
	CF_U(ciov_ctl_qp_modify_req, handle, CF_REQ),
	CF_F(ciov_ctl_qp_modify_req, mask, qp_attr_mask_names, CF_REQ),
	CF_S(ciov_ctl_qp_modify_req, attr, ciov_qp_attr_wire, CF_REQ),
};
CODEC_STRUCT(ciov_ctl_qp_modify_req, qp_modify_req_f);

static const struct codec_field qp_query_rep_f[] = {
	CF_S(ciov_ctl_qp_query_rep, attr, ciov_qp_attr_wire),
};
CODEC_STRUCT(ciov_ctl_qp_query_rep, qp_query_rep_f);

static const struct codec_field ah_create_req_f[] = {
	CF_U(ciov_ctl_ah_create_req, pd, CF_REQ),
	CF_S(ciov_ctl_ah_create_req, attr, ciov_ah_attr, CF_REQ),
};
CODEC_STRUCT(ciov_ctl_ah_create_req, ah_create_req_f);

/* ------------------------------------------------------------------------ */

/* A struct that abi.h adds to CIOV_CTL_OPS without a description above is
 * a build error here: decide its JSON form (or CODEC_OPAQUE) first. */
const struct prov_codec prov_codecs[CIOV_CTL_OP_MAX] = {
#define X(N, n, req, rep, fi, fo) [CIOV_CTL_##N] = {&cs_##req, &cs_##rep, fi, fo},
	CIOV_CTL_OPS(X)
#undef X
};
