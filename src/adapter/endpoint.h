/* SPDX-License-Identifier: MIT */
/* Endpoints: the adapter's isolated functions (VF/SF in hardware terms). */
#ifndef CIOV_ENDPOINT_H
#define CIOV_ENDPOINT_H

#include <stdbool.h>
#include <stdint.h>

#include <ciov/abi.h>

#include "adapter/adapter.h"
#include "adapter/engine.h"
#include "adapter/pool.h"

struct client;
struct iommu;

/* Control-path errors counted per endpoint, by errno. */
#define EP_ERRORS(X)                                                           \
	X(EINVAL)                                                              \
	X(ENOENT)                                                              \
	X(EPERM)                                                               \
	X(EACCES)                                                              \
	X(EDQUOT)                                                              \
	X(EBUSY)                                                               \
	X(ENOMEM)                                                              \
	X(ENOSPC)                                                              \
	X(EOPNOTSUPP)                                                          \
	X(EMSGSIZE)

enum ep_error {
#define X(e) EP_ERR_##e,
	EP_ERRORS(X)
#undef X
	EP_ERR_OTHER,
	EP_ERR_MAX
};

struct ep_counters {
	uint64_t ctl_ops;
	uint64_t ctl_errors;
	uint64_t errors[EP_ERR_MAX];
};

#define EP_NO_GID (-1)

struct endpoint {
	struct adapter *ad;
	uint32_t id;
	char name[CIOV_NAME_MAX];
	enum ciov_mode mode;
	uint32_t uid;
	int64_t gid; /* owner group, EP_NO_GID when none */
	uint8_t gid_addr[16];
	uint64_t quota[CIOV_QUOTA_MAX];
	uint64_t usage[CIOV_QUOTA_MAX];
	struct ep_counters cnt;
	struct qp_counters retired; /* traffic of QPs destroyed since start */
	struct pool obj[CIOV_OBJ_MAX];
	struct iommu *iommu;
	struct client *clients; /* connections bound to this endpoint */
	struct rate_node rate;	/* its leaf in the QoS hierarchy (rate.h) */
};

/* The built-in default quota for Q. */
uint64_t ep_default_quota(enum ciov_quota q);

/* A valid endpoint name: 1-63 chars of [A-Za-z0-9_.-], not starting with
 * '-' or '.'. */
bool ep_name_valid(const char *name);

/* Creates endpoint NAME with default settings. ID 0 picks a free id; a
 * given id (restoring state) must be free. */
int ep_create(struct adapter *ad, const char *name, uint32_t id, struct endpoint **ret);
/* Disconnects every tenant, destroys every object, frees EP. */
void ep_destroy(struct endpoint *ep);
/* Destroys the objects OWNER created (all objects when ALL), dependents
 * first. */
void ep_destroy_objects(struct endpoint *ep, struct client *owner, bool all);
struct endpoint *ep_find(struct adapter *ad, const char *name);
/* The endpoint whose GID is GID, or NULL. A walk: callers cache. */
struct endpoint *ep_by_gid(struct adapter *ad, const uint8_t gid[16]);
/* The GID EP's tenants use and give their peers: the first fabric port's
 * RoCEv2 GID when the adapter has a port (packets are addressed to ports;
 * QPNs are unique on the adapter), else EP's own GID. */
const uint8_t *ep_fabric_gid(const struct endpoint *ep);
/* Whether GID names EP: its own GID, or one of its adapter's ports. */
bool ep_gid_names(const struct endpoint *ep, const uint8_t gid[16]);
uint32_t ep_nobjects(const struct endpoint *ep);
uint32_t ep_nclients(const struct endpoint *ep);

/* Quota accounting: -EDQUOT (and nothing charged) when over. */
int ep_charge(struct endpoint *ep, enum ciov_quota q, uint64_t n);
void ep_uncharge(struct endpoint *ep, enum ciov_quota q, uint64_t n);

/* Counts a control operation and its result (0 or -errno). */
void ep_count_op(struct endpoint *ep, int err);
const char *ep_error_name(enum ep_error e);

/* EP's traffic: the retired counters plus every live QP's. */
void ep_traffic(const struct endpoint *ep, struct qp_counters *sum);

/* Whether a process with UID/GID may open EP. */
bool ep_may_open(const struct endpoint *ep, uint32_t uid, uint32_t gid);

#endif
