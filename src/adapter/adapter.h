/* SPDX-License-Identifier: MIT */
/* The adapter: ciovd's one global object, owner of all endpoints. */
#ifndef CIOV_ADAPTER_H
#define CIOV_ADAPTER_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "adapter/engine.h"
#include "adapter/fabric/port.h"
#include "adapter/loop.h"
#include "adapter/pool.h"
#include "adapter/qpn.h"
#include "adapter/rate.h"

/* Adapter-wide limits (device attributes): what one WQE or queue may be. */
struct adapter_limits {
	uint32_t endpoints;   /* endpoints in all */
	uint32_t connections; /* tenant connections in all */
	uint32_t admin_conns; /* admin connections in all */
	uint32_t max_sge;
	uint32_t max_inline;
	uint32_t max_qp_wr;
	uint32_t max_cqe;
	uint32_t max_srq_wr;
	uint64_t max_mr_size;
};

struct endpoint;

struct listener {
	struct loop_src src;
	struct adapter *ad;
	char path[PATH_MAX];
};

struct adapter {
	struct loop loop;
	struct adapter_limits lim;
	char runtime_dir[PATH_MAX];
	char state_dir[PATH_MAX];
	struct pool endpoints; /* struct endpoint, by id */
	uint32_t nconns;       /* tenant connections open */
	uint32_t nadmin;       /* admin connections open */
	uint8_t gid_prefix[8]; /* upper half of every endpoint GID, persisted */
	gid_t admin_gid;       /* group allowed on the admin socket */
	bool has_admin_gid;
	struct listener tenant;
	struct listener admin;
	int sigfd;
	struct loop_src sig_src;
	struct engine engine;
	struct qpn_table qpns; /* every QP, by QPN (qpn.h) */
	struct rate_groups rate_groups; /* QoS group nodes (rate.h) */
	struct port *ports[PORT_MAX];  /* fabric ports, in the order added (fabric/port.h) */
	unsigned nports;
};

#endif
