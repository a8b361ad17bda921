/* SPDX-License-Identifier: MIT */
/*
 * libciov-verbs: the devices (one per fabric port of the adapter: ciov0,
 * ciov1, ... in the order the ports were added; ciov0 alone, the loopback
 * device, when the adapter has none), their contexts, port, GID and P_Key
 * tables, async events, and libibverbs' name tables.
 *
 * The device list probes the adapter of $CIOV_RUNTIME_DIR with the endpoint
 * of $CIOV_ENDPOINT: no adapter or no endpoint, no device. Every
 * ibv_open_device() opens its own endpoint connection, so closing the
 * context destroys what was created through it, as in libibverbs. Device
 * ciovN has one port (1) whose GID table has one entry (0): fabric port N's
 * RoCEv2 GID; every address vector made through its context carries
 * libciov's source GID index of that port, so its QPs and AHs send from
 * port N (ciov.h, struct ciov_port_attr).
 */
#include <endian.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verbs/compat.h"

#define CV_DEV_PREFIX "ciov"
#define CV_PKEY_DEFAULT 0xffff /* IBA 10.9.1.1: the full-member default P_Key */
#define CV_MAX_MSG_SZ 0x80000000u /* IBA 9.4: a message is at most 2^31 bytes */
#define CV_MAX_RD_ATOM 16 /* the adapter's QP_MAX_RD_ATOMIC */

/* The node GUID: the port GID's interface identifier (its low 64 bits),
 * as a RoCE device derives its default GID from its GUID. */
static __be64 guid_of(const struct cv_device *d)
{
	__be64 g;

	memcpy(&g, d->port.gid + 8, sizeof(g));
	return g;
}

/* The loopback device's port: the endpoint's GID, always active. */
static void loopback_port(const struct ciov_endpoint_attr *a, struct ciov_port_attr *p)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->gid, a->gid, sizeof(p->gid));
	p->active_mtu = a->active_mtu;
	p->state = CIOV_PORT_ACTIVE;
}

static int probe(struct ciov_endpoint_attr *attr, struct ciov_adapter **ad_ret,
		 struct ciov_endpoint **ep_ret)
{
	struct ciov_adapter *ad;
	struct ciov_endpoint *ep;
	int err;

	err = ciov_adapter_open(NULL, &ad);
	if (err)
		return err;
	err = ciov_open_endpoint(ad, NULL, &ep);
	if (err)
		goto close_ad;
	err = ciov_query_endpoint(ep, attr);
	if (err)
		goto close_ep;
	if (ep_ret) {
		*ad_ret = ad;
		*ep_ret = ep;
		return 0;
	}
close_ep:
	ciov_close_endpoint(ep);
close_ad:
	ciov_adapter_close(ad);
	return err;
}

/* Device ciovI for PORT (I: the port's index). */
static struct cv_device *device_new(const struct ciov_endpoint_attr *attr,
				    const struct ciov_port_attr *port, unsigned i)
{
	struct cv_device *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->attr = *attr;
	d->port = *port;
	d->dev.node_type = IBV_NODE_CA;
	d->dev.transport_type = IBV_TRANSPORT_IB;
	snprintf(d->dev.name, sizeof(d->dev.name), CV_DEV_PREFIX "%u", i);
	snprintf(d->dev.dev_name, sizeof(d->dev.dev_name), "uverbs%u", i);
	snprintf(d->dev.dev_path, sizeof(d->dev.dev_path), "/sys/class/infiniband_verbs/uverbs%u",
		 i);
	snprintf(d->dev.ibdev_path, sizeof(d->dev.ibdev_path), "/sys/class/infiniband/%s",
		 d->dev.name);
	return d;
}

struct ibv_device **ibv_get_device_list(int *num_devices)
{
	struct ciov_endpoint_attr attr;
	struct ciov_adapter *ad;
	struct ciov_endpoint *ep;
	struct ibv_device **list;
	unsigned n, k = 0;

	if (num_devices)
		*num_devices = 0;
	if (probe(&attr, &ad, &ep)) {
		/* no adapter or endpoint reachable: no device */
		list = calloc(1, sizeof(*list));
		return list ? list : cv_null(-ENOMEM);
	}
	n = attr.num_ports ? attr.num_ports : 1;
	list = calloc(n + 1, sizeof(*list));
	if (!list) {
		errno = ENOMEM;
		goto out;
	}
	for (; k < n; k++) {
		struct ciov_port_attr port;
		struct cv_device *d;

		if (!attr.num_ports)
			loopback_port(&attr, &port);
		else if (ciov_query_port(ep, k, &port))
			break; /* ports were deleted meanwhile: list those left */
		d = device_new(&attr, &port, k);
		if (!d) {
			ibv_free_device_list(list);
			list = NULL;
			errno = ENOMEM;
			goto out;
		}
		list[k] = &d->dev;
	}
	if (num_devices)
		*num_devices = (int)k;
out:
	ciov_close_endpoint(ep);
	ciov_adapter_close(ad);
	return list;
}

void ibv_free_device_list(struct ibv_device **list)
{
	if (!list)
		return;
	for (struct ibv_device **p = list; *p; p++)
		free(container_of(*p, struct cv_device, dev));
	free(list);
}

const char *ibv_get_device_name(struct ibv_device *device)
{
	return device->name;
}

__be64 ibv_get_device_guid(struct ibv_device *device)
{
	return guid_of(container_of(device, struct cv_device, dev));
}

static void fill_device_attr(const struct cv_context *c, struct ibv_device_attr *a)
{
	const struct ciov_endpoint_attr *e = &c->attr;

	memset(a, 0, sizeof(*a));
	snprintf(a->fw_ver, sizeof(a->fw_ver), "ciov %s", CIOV_VERSION);
	a->node_guid = guid_of(&c->dev);
	a->sys_image_guid = a->node_guid;
	a->max_mr_size = e->quota[CIOV_QUOTA_mr_bytes];
	a->page_size_cap = 4096;
	a->vendor_id = CV_VENDOR_ID;
	a->vendor_part_id = CV_VENDOR_PART_ID;
	a->hw_ver = 1;
	a->max_qp = (int)e->quota[CIOV_QUOTA_qps];
	a->max_qp_wr = (int)e->max_qp_wr;
	a->device_cap_flags = IBV_DEVICE_RC_RNR_NAK_GEN;
	a->max_sge = (int)e->max_sge;
	a->max_sge_rd = (int)e->max_sge;
	a->max_cq = (int)e->quota[CIOV_QUOTA_cqs];
	a->max_cqe = (int)e->max_cqe;
	a->max_mr = (int)e->quota[CIOV_QUOTA_mrs];
	a->max_pd = (int)e->quota[CIOV_QUOTA_pds];
	a->max_qp_rd_atom = CV_MAX_RD_ATOM;
	a->max_qp_init_rd_atom = CV_MAX_RD_ATOM;
	a->max_res_rd_atom = a->max_qp * CV_MAX_RD_ATOM;
	/* atomic against each other and the tenants' CPU atomics (engine.md) */
	a->atomic_cap = IBV_ATOMIC_GLOB;
	a->max_ah = (int)e->quota[CIOV_QUOTA_ahs];
	a->max_srq = (int)e->quota[CIOV_QUOTA_srqs];
	a->max_srq_wr = (int)e->max_qp_wr;
	a->max_srq_sge = (int)e->max_sge;
	a->max_pkeys = 1;
	a->local_ca_ack_delay = 0;
	a->phys_port_cnt = 1;
}

int ibv_query_device(struct ibv_context *context, struct ibv_device_attr *attr)
{
	fill_device_attr(cv_ctx(context), attr);
	return 0;
}

static int cv_query_device_ex(struct ibv_context *context,
			      const struct ibv_query_device_ex_input *input,
			      struct ibv_device_attr_ex *attr, size_t attr_size)
{
	struct ibv_device_attr_ex a;

	if (input && input->comp_mask)
		return EINVAL;
	if (attr_size < sizeof(a.orig_attr))
		return EINVAL;
	memset(&a, 0, sizeof(a));
	fill_device_attr(cv_ctx(context), &a.orig_attr);
	a.max_dm_size = 0;
	memset(attr, 0, attr_size);
	memcpy(attr, &a, attr_size < sizeof(a) ? attr_size : sizeof(a));
	return 0;
}

/* Bytes to the IBV_MTU_* enum (256 = 1 ... 4096 = 5). */
static enum ibv_mtu cv_mtu_enum(uint32_t bytes)
{
	enum ibv_mtu m = IBV_MTU_256;

	while (m < IBV_MTU_4096 && (256u << (m - IBV_MTU_256 + 1)) <= bytes)
		m++;
	return m;
}

/* The context's port as it is now: a fabric port that was deleted (or
 * whose index another port took) is down. */
static void port_now(struct cv_context *c, struct ciov_port_attr *p)
{
	if (!c->sgid_index) {
		loopback_port(&c->attr, p);
		return;
	}
	if (ciov_query_port(c->ep, c->sgid_index - 1u, p) ||
	    strcmp(p->name, c->dev.port.name) != 0) {
		*p = c->dev.port;
		p->state = CIOV_PORT_DOWN;
	}
}

static void fill_port_attr(struct cv_context *c, struct ibv_port_attr *p, size_t len)
{
	struct ciov_port_attr port;
	struct ibv_port_attr a;
	bool up;

	port_now(c, &port);
	up = port.state == CIOV_PORT_ACTIVE;
	a = (struct ibv_port_attr){
		.state = up ? IBV_PORT_ACTIVE : IBV_PORT_DOWN,
		.max_mtu = IBV_MTU_4096,
		.active_mtu = cv_mtu_enum(port.active_mtu),
		.gid_tbl_len = 1,
		.port_cap_flags = 0,
		.max_msg_sz = CV_MAX_MSG_SZ,
		.pkey_tbl_len = 1,
		.max_vl_num = 1, /* IBA 14.2.5.6 encoding: VL0 */
		.active_width = 1, /* 1x: a software link has no lanes */
		.active_speed = 1, /* SDR: there is no "software" value */
		.phys_state = up ? 5 : 3, /* IBA 14.2.5.6: LinkUp, Disabled */
		.link_layer = IBV_LINK_LAYER_ETHERNET,
	};

	memset(p, 0, len);
	memcpy(p, &a, len < sizeof(a) ? len : sizeof(a));
}

static int cv_query_port(struct ibv_context *context, uint8_t port_num,
			 struct ibv_port_attr *port_attr, size_t port_attr_len)
{
	if (port_num != CV_PORT)
		return EINVAL;
	fill_port_attr(cv_ctx(context), port_attr, port_attr_len);
	return 0;
}

/* The exported symbol, used by binaries built before verbs_context had
 * query_port: their struct ended with link_layer and a reserved byte
 * (now flags), a prefix of today's struct ibv_port_attr. */
#undef ibv_query_port
int ibv_query_port(struct ibv_context *context, uint8_t port_num,
		   struct _compat_ibv_port_attr *port_attr);
int ibv_query_port(struct ibv_context *context, uint8_t port_num,
		   struct _compat_ibv_port_attr *port_attr)
{
	return cv_query_port(context, port_num, (struct ibv_port_attr *)port_attr,
			     offsetof(struct ibv_port_attr, flags) + 1);
}

int ibv_query_gid(struct ibv_context *context, uint8_t port_num, int index, union ibv_gid *gid)
{
	if (port_num != CV_PORT || index != 0) {
		errno = EINVAL;
		return -1; /* libibverbs' convention for this call */
	}
	memcpy(gid->raw, cv_ctx(context)->dev.port.gid, sizeof(gid->raw));
	return 0;
}

int _ibv_query_gid_ex(struct ibv_context *context, uint32_t port_num, uint32_t gid_index,
		      struct ibv_gid_entry *entry, uint32_t flags, size_t entry_size)
{
	struct ibv_gid_entry e = {0};

	if (flags || entry_size < sizeof(e))
		return EINVAL;
	if (port_num != CV_PORT || gid_index != 0)
		return ENODATA; /* libibverbs: no such GID entry */
	memcpy(e.gid.raw, cv_ctx(context)->dev.port.gid, sizeof(e.gid.raw));
	e.gid_index = gid_index;
	e.port_num = port_num;
	e.gid_type = IBV_GID_TYPE_ROCE_V2;
	e.ndev_ifindex = 0;
	memcpy(entry, &e, sizeof(e));
	return 0;
}

ssize_t _ibv_query_gid_table(struct ibv_context *context, struct ibv_gid_entry *entries,
			     size_t max_entries, uint32_t flags, size_t entry_size)
{
	int err;

	if (!max_entries)
		return -EINVAL;
	err = _ibv_query_gid_ex(context, CV_PORT, 0, entries, flags, entry_size);
	return err ? -err : 1;
}

/* libibverbs' private (IBVERBS_PRIVATE_*) call that ibv_devinfo uses. */
int ibv_query_gid_type(struct ibv_context *context, uint8_t port_num, unsigned int index,
		       enum cv_gid_type_sysfs *type);
int ibv_query_gid_type(struct ibv_context *context, uint8_t port_num, unsigned int index,
		       enum cv_gid_type_sysfs *type)
{
	if (port_num != CV_PORT || index != 0) {
		errno = EINVAL;
		return -1;
	}
	*type = CV_GID_TYPE_SYSFS_ROCE_V2;
	return 0;
}

int ibv_query_pkey(struct ibv_context *context, uint8_t port_num, int index, __be16 *pkey)
{
	if (port_num != CV_PORT || index != 0) {
		errno = EINVAL;
		return -1;
	}
	*pkey = htobe16(CV_PKEY_DEFAULT);
	return 0;
}

/* There is no sysfs for ciov: every file is missing. */
int ibv_read_sysfs_file(const char *dir, const char *file, char *buf, size_t size);
int ibv_read_sysfs_file(const char *dir, const char *file, char *buf, size_t size)
{
	errno = ENOENT;
	return -1;
}

/* Registered memory is MAP_SHARED memfd pages (libciov), which a child
 * shares rather than copies: nothing to prepare. */
int ibv_fork_init(void)
{
	return 0;
}

enum ibv_fork_status ibv_is_fork_initialized(void)
{
	return IBV_FORK_UNNEEDED;
}

/* The device's fabric port among the adapter's ports now, by name: its
 * source GID index in *SGID_INDEX and its attributes in *PORT. 0, or
 * -ENODEV when the port is gone. */
static int find_port(struct ciov_endpoint *ep, const struct ciov_endpoint_attr *attr,
		     struct ciov_port_attr *port, uint8_t *sgid_index)
{
	for (unsigned i = 0; i < attr->num_ports; i++) {
		struct ciov_port_attr p;
		int err = ciov_query_port(ep, i, &p);

		if (err)
			return err == -EINVAL ? -ENODEV : err;
		if (strcmp(p.name, port->name) == 0) {
			*port = p;
			*sgid_index = p.sgid_index;
			return 0;
		}
	}
	return -ENODEV;
}

struct ibv_context *ibv_open_device(struct ibv_device *device)
{
	struct cv_context *c = calloc(1, sizeof(*c));
	struct ibv_context *ctx;
	int err;

	if (!c)
		return cv_null(-ENOMEM);
	err = probe(&c->attr, &c->ad, &c->ep);
	if (err) {
		free(c);
		return cv_null(err);
	}
	c->dev = *container_of(device, struct cv_device, dev);
	if (c->dev.port.sgid_index) {
		err = find_port(c->ep, &c->attr, &c->dev.port, &c->sgid_index);
		if (err) {
			ciov_close_endpoint(c->ep);
			ciov_adapter_close(c->ad);
			free(c);
			return cv_null(err);
		}
	}
	pthread_mutex_init(&c->lock, NULL);
	c->vctx.sz = sizeof(c->vctx);
	c->vctx.query_port = cv_query_port;
	c->vctx.query_device_ex = cv_query_device_ex;
	c->vctx.create_qp_ex = cv_create_qp_ex;
	c->vctx.create_cq_ex = cv_create_cq_ex;
	ctx = &c->vctx.context;
	ctx->device = &c->dev.dev;
	ctx->cmd_fd = -1;
	ctx->async_fd = ciov_async_fd(c->ep);
	ctx->num_comp_vectors = 1;
	pthread_mutex_init(&ctx->mutex, NULL);
	ctx->abi_compat = __VERBS_ABI_IS_EXTENDED;
	ctx->ops.poll_cq = cv_poll_cq;
	ctx->ops.req_notify_cq = cv_req_notify_cq;
	ctx->ops.post_send = cv_post_send;
	ctx->ops.post_recv = cv_post_recv;
	ctx->ops.post_srq_recv = cv_post_srq_recv;
	return ctx;
}

int ibv_close_device(struct ibv_context *context)
{
	struct cv_context *c = cv_ctx(context);

	/* closing the endpoint destroys what is left of its objects */
	ciov_close_endpoint(c->ep);
	ciov_adapter_close(c->ad);
	pthread_mutex_destroy(&context->mutex);
	pthread_mutex_destroy(&c->lock);
	free(c);
	return 0;
}

void cv_obj_add(struct cv_context *c, struct cv_obj *o, uint32_t type, uint32_t handle)
{
	o->type = type;
	o->handle = handle;
	pthread_mutex_lock(&c->lock);
	o->next = c->objs;
	c->objs = o;
	pthread_mutex_unlock(&c->lock);
}

void cv_obj_del(struct cv_context *c, struct cv_obj *o)
{
	pthread_mutex_lock(&c->lock);
	for (struct cv_obj **p = &c->objs; *p; p = &(*p)->next)
		if (*p == o) {
			*p = o->next;
			break;
		}
	pthread_mutex_unlock(&c->lock);
}

static struct cv_obj *obj_find(struct cv_context *c, uint32_t type, uint32_t handle)
{
	struct cv_obj *o;

	pthread_mutex_lock(&c->lock);
	for (o = c->objs; o; o = o->next)
		if (o->type == type && o->handle == handle)
			break;
	pthread_mutex_unlock(&c->lock);
	return o;
}

int ibv_get_async_event(struct ibv_context *context, struct ibv_async_event *event)
{
	struct cv_context *c = cv_ctx(context);
	struct ciov_async_event ev;
	struct cv_obj *o;
	int err;

	for (;;) {
		err = ciov_get_async_event(c->ep, &ev);
		if (err) {
			errno = -err;
			return -1;
		}
		o = obj_find(c, ev.obj_type, ev.handle);
		if (o)
			break;
		/* the object was destroyed before its event was read */
	}
	memset(event, 0, sizeof(*event));
	event->event_type = (enum ibv_event_type)ev.type; /* same numbering (abi.h) */
	switch (ev.obj_type) {
	case CIOV_OBJ_QP:
		event->element.qp = &container_of(o, struct cv_qp, obj)->qpx.qp_base;
		break;
	case CIOV_OBJ_CQ:
		event->element.cq = &container_of(o, struct cv_cq, obj)->cq;
		break;
	case CIOV_OBJ_SRQ:
		event->element.srq = &container_of(o, struct cv_srq, obj)->srq;
		break;
	default:
		event->element.port_num = CV_PORT;
		break;
	}
	return 0;
}

void ibv_ack_async_event(struct ibv_async_event *event)
{
	/* Destroy does not wait for acknowledgements: nothing to count. */
}

/* libibverbs' own strings, so that tools print what they print on hardware. */
const char *ibv_node_type_str(enum ibv_node_type node_type)
{
	static const char *const names[] = {
		[IBV_NODE_CA] = "InfiniBand channel adapter",
		[IBV_NODE_SWITCH] = "InfiniBand switch",
		[IBV_NODE_ROUTER] = "InfiniBand router",
		[IBV_NODE_RNIC] = "iWARP NIC",
		[IBV_NODE_USNIC] = "usNIC",
		[IBV_NODE_USNIC_UDP] = "usNIC UDP",
		[IBV_NODE_UNSPECIFIED] = "unspecified",
	};

	if ((unsigned)node_type >= sizeof(names) / sizeof(names[0]) || !names[node_type])
		return "unknown";
	return names[node_type];
}

const char *ibv_port_state_str(enum ibv_port_state port_state)
{
	static const char *const names[] = {
		[IBV_PORT_NOP] = "PORT_NOP",
		[IBV_PORT_DOWN] = "PORT_DOWN",
		[IBV_PORT_INIT] = "PORT_INIT",
		[IBV_PORT_ARMED] = "PORT_ARMED",
		[IBV_PORT_ACTIVE] = "PORT_ACTIVE",
		[IBV_PORT_ACTIVE_DEFER] = "PORT_ACTIVE_DEFER",
	};

	if ((unsigned)port_state >= sizeof(names) / sizeof(names[0]))
		return "invalid state";
	return names[port_state];
}

const char *ibv_event_type_str(enum ibv_event_type event)
{
	static const char *const names[] = {
		[IBV_EVENT_CQ_ERR] = "CQ error",
		[IBV_EVENT_QP_FATAL] = "local work queue catastrophic error",
		[IBV_EVENT_QP_REQ_ERR] = "invalid request local work queue error",
		[IBV_EVENT_QP_ACCESS_ERR] = "local access violation work queue error",
		[IBV_EVENT_COMM_EST] = "communication established",
		[IBV_EVENT_SQ_DRAINED] = "send queue drained",
		[IBV_EVENT_PATH_MIG] = "path migrated",
		[IBV_EVENT_PATH_MIG_ERR] = "path migration request error",
		[IBV_EVENT_DEVICE_FATAL] = "local catastrophic error",
		[IBV_EVENT_PORT_ACTIVE] = "port active",
		[IBV_EVENT_PORT_ERR] = "port error",
		[IBV_EVENT_LID_CHANGE] = "LID change",
		[IBV_EVENT_PKEY_CHANGE] = "P_Key change",
		[IBV_EVENT_SM_CHANGE] = "SM change",
		[IBV_EVENT_SRQ_ERR] = "SRQ catastrophic error",
		[IBV_EVENT_SRQ_LIMIT_REACHED] = "SRQ limit reached",
		[IBV_EVENT_QP_LAST_WQE_REACHED] = "last WQE reached",
		[IBV_EVENT_CLIENT_REREGISTER] = "client reregistration",
		[IBV_EVENT_GID_CHANGE] = "GID table change",
		[IBV_EVENT_WQ_FATAL] = "WQ fatal",
	};

	if ((unsigned)event >= sizeof(names) / sizeof(names[0]) || !names[event])
		return "unknown";
	return names[event];
}

const char *ibv_wc_status_str(enum ibv_wc_status status)
{
	static const char *const names[] = {
		[IBV_WC_SUCCESS] = "success",
		[IBV_WC_LOC_LEN_ERR] = "local length error",
		[IBV_WC_LOC_QP_OP_ERR] = "local QP operation error",
		[IBV_WC_LOC_EEC_OP_ERR] = "local EE context operation error",
		[IBV_WC_LOC_PROT_ERR] = "local protection error",
		[IBV_WC_WR_FLUSH_ERR] = "Work Request Flushed Error",
		[IBV_WC_MW_BIND_ERR] = "memory management operation error",
		[IBV_WC_BAD_RESP_ERR] = "bad response error",
		[IBV_WC_LOC_ACCESS_ERR] = "local access error",
		[IBV_WC_REM_INV_REQ_ERR] = "remote invalid request error",
		[IBV_WC_REM_ACCESS_ERR] = "remote access error",
		[IBV_WC_REM_OP_ERR] = "remote operation error",
		[IBV_WC_RETRY_EXC_ERR] = "transport retry counter exceeded",
		[IBV_WC_RNR_RETRY_EXC_ERR] = "RNR retry counter exceeded",
		[IBV_WC_LOC_RDD_VIOL_ERR] = "local RDD violation error",
		[IBV_WC_REM_INV_RD_REQ_ERR] = "remote invalid RD request",
		[IBV_WC_REM_ABORT_ERR] = "aborted error",
		[IBV_WC_INV_EECN_ERR] = "invalid EE context number",
		[IBV_WC_INV_EEC_STATE_ERR] = "invalid EE context state",
		[IBV_WC_FATAL_ERR] = "fatal error",
		[IBV_WC_RESP_TIMEOUT_ERR] = "response timeout error",
		[IBV_WC_GENERAL_ERR] = "general error",
		[IBV_WC_TM_ERR] = "TM error",
		[IBV_WC_TM_RNDV_INCOMPLETE] = "TM software rendezvous",
	};

	if ((unsigned)status >= sizeof(names) / sizeof(names[0]) || !names[status])
		return "unknown";
	return names[status];
}

/* Multicast needs a fabric port's group membership; ciov has none yet. */
int ibv_attach_mcast(struct ibv_qp *qp, const union ibv_gid *gid, uint16_t lid)
{
	return EOPNOTSUPP;
}

int ibv_detach_mcast(struct ibv_qp *qp, const union ibv_gid *gid, uint16_t lid)
{
	return EOPNOTSUPP;
}
