/* SPDX-License-Identifier: MIT */
/*
 * Link addresses of a port's peers, from the kernel (rtnetlink), never
 * blocking the loop. For a destination: the route out of the port's
 * interface (RTM_GETROUTE with RTA_OIF, as `ip route get ADDR oif DEV`)
 * gives the next hop, the destination itself or a gateway; the next hop's
 * entry in the neighbour table (RTM_GETNEIGH) gives the MAC. When the
 * kernel has no usable entry it is asked to resolve one (RTM_NEWNEIGH with
 * NTF_USE, as `ip neigh replace ADDR dev DEV use`) and port_tx() returns
 * -EAGAIN; the answer comes later on the netlink socket, which the loop
 * watches (the port subscribes to neighbour events): it is read there and
 * the engine is kicked so that the transport tries again. rtnetlink
 * answers requests synchronously, so a known entry is found at once.
 *
 * Results are cached per port (LINK_NEIGH entries, the oldest replaced),
 * asked again after NEIGH_REFRESH_NS (the old MAC is used meanwhile), and
 * a destination the kernel cannot resolve within NEIGH_GIVE_UP_NS, or has
 * no route to out of this interface, is -EHOSTUNREACH.
 *
 * Security model: netlink answers come from the kernel, but are still
 * length-checked message by message and attribute by attribute.
 */
#include <errno.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "adapter/adapter.h"
#include "adapter/fabric/link.h"

/* A known address is asked again after this long (the kernel's entry may
 * have changed). */
#define NEIGH_REFRESH_NS (30ull * 1000000000)
/* How long the kernel may take to resolve one (ARP and ND give up after 3
 * probes 1 s apart by default). */
#define NEIGH_GIVE_UP_NS (3ull * 1000000000)
/* At most one request per destination this often while it resolves (the
 * engine may call port_tx() on every pass). */
#define NEIGH_RESEND_NS (20ull * 1000000)

/* Neighbour states whose link address can be used (as the kernel's own
 * output path does: STALE and the probing states still send). */
#define NUD_USABLE (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP)

static size_t alen_of(int family)
{
	return family == AF_INET ? 4 : 16;
}

static void nl_send(struct port *p, struct nlmsghdr *nh)
{
	nh->nlmsg_seq = ++p->impl->nl_seq;
	if (p->impl->nl_seq == 0)
		nh->nlmsg_seq = ++p->impl->nl_seq;
	/* A full socket buffer loses the request: it is asked again. */
	(void)send(p->impl->nl_fd, nh, nh->nlmsg_len, MSG_DONTWAIT);
}

static void add_attr(struct nlmsghdr *nh, uint16_t type, const void *data, size_t len)
{
	struct rtattr *ra = (struct rtattr *)((uint8_t *)nh + NLMSG_ALIGN(nh->nlmsg_len));

	ra->rta_type = type;
	ra->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(ra), data, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(ra->rta_len);
}

/* RTM_GETROUTE for N's destination, out of the port's interface. */
static void ask_route(struct port *p, struct neigh *n)
{
	union {
		struct nlmsghdr nh;
		uint8_t b[NLMSG_SPACE(sizeof(struct rtmsg)) + 2 * RTA_SPACE(16)];
	} r = {0};
	struct rtmsg *rt = NLMSG_DATA(&r.nh);
	uint32_t oif = (uint32_t)p->ifindex;

	r.nh.nlmsg_len = NLMSG_LENGTH(sizeof(*rt));
	r.nh.nlmsg_type = RTM_GETROUTE;
	r.nh.nlmsg_flags = NLM_F_REQUEST;
	rt->rtm_family = (uint8_t)n->family;
	rt->rtm_dst_len = (uint8_t)(alen_of(n->family) * 8);
	add_attr(&r.nh, RTA_DST, n->ip, alen_of(n->family));
	add_attr(&r.nh, RTA_OIF, &oif, sizeof(oif));
	nl_send(p, &r.nh);
	n->route_seq = r.nh.nlmsg_seq;
}

/* RTM_GETNEIGH for N's next hop, then RTM_NEWNEIGH with NTF_USE: the
 * kernel starts resolving it if it has to (no answer unless it fails). */
static void ask_neigh(struct port *p, struct neigh *n)
{
	for (int i = 0; i < 2; i++) {
		union {
			struct nlmsghdr nh;
			uint8_t b[NLMSG_SPACE(sizeof(struct ndmsg)) + RTA_SPACE(16)];
		} r = {0};
		struct ndmsg *nd = NLMSG_DATA(&r.nh);

		r.nh.nlmsg_len = NLMSG_LENGTH(sizeof(*nd));
		r.nh.nlmsg_type = i == 0 ? RTM_GETNEIGH : RTM_NEWNEIGH;
		r.nh.nlmsg_flags = NLM_F_REQUEST | (i == 0 ? 0 : NLM_F_CREATE);
		nd->ndm_family = (uint8_t)n->family;
		nd->ndm_ifindex = p->ifindex;
		if (i == 1) {
			nd->ndm_flags = NTF_USE;
			nd->ndm_state = NUD_NONE;
		}
		add_attr(&r.nh, NDA_DST, n->nh, alen_of(n->family));
		nl_send(p, &r.nh);
	}
}

static struct neigh *by_route_seq(struct port *p, uint32_t seq)
{
	for (unsigned i = 0; i < LINK_NEIGH; i++) {
		struct neigh *n = &p->impl->neigh[i];

		if (n->family && n->asked_ns && !n->routed && n->route_seq == seq)
			return n;
	}
	return NULL;
}

static void on_route(struct port *p, const struct nlmsghdr *nh)
{
	const struct rtmsg *rt = NLMSG_DATA(nh);
	struct neigh *n = by_route_seq(p, nh->nlmsg_seq);
	const uint8_t *gw = NULL;
	int oif = 0, rlen;

	if (!n || nh->nlmsg_len < NLMSG_LENGTH(sizeof(*rt)))
		return;
	rlen = (int)(nh->nlmsg_len - NLMSG_LENGTH(sizeof(*rt)));
	for (const struct rtattr *ra = RTM_RTA(rt); RTA_OK(ra, rlen); ra = RTA_NEXT(ra, rlen)) {
		if (ra->rta_type == RTA_GATEWAY && RTA_PAYLOAD(ra) == alen_of(n->family))
			gw = RTA_DATA(ra);
		else if (ra->rta_type == RTA_OIF && RTA_PAYLOAD(ra) == sizeof(uint32_t))
			memcpy(&oif, RTA_DATA(ra), sizeof(oif));
	}
	n->routed = true;
	/* A local address, a blackhole, or a route out of another interface:
	 * not reachable through this port. */
	if (rt->rtm_family != n->family || rt->rtm_type != RTN_UNICAST || oif != p->ifindex) {
		n->unreachable = true;
		return;
	}
	memcpy(n->nh, gw ? gw : n->ip, alen_of(n->family));
}

static void on_neigh(struct port *p, const struct nlmsghdr *nh)
{
	const struct ndmsg *nd = NLMSG_DATA(nh);
	const uint8_t *dst = NULL, *ll = NULL;
	int rlen;

	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*nd)) || nd->ndm_ifindex != p->ifindex ||
	    !(nd->ndm_state & NUD_USABLE))
		return;
	rlen = (int)(nh->nlmsg_len - NLMSG_LENGTH(sizeof(*nd)));
	for (const struct rtattr *ra = (const struct rtattr *)((const uint8_t *)nd +
							       NLMSG_ALIGN(sizeof(*nd)));
	     RTA_OK(ra, rlen); ra = RTA_NEXT(ra, rlen)) {
		if (ra->rta_type == NDA_DST && RTA_PAYLOAD(ra) == alen_of(nd->ndm_family))
			dst = RTA_DATA(ra);
		else if (ra->rta_type == NDA_LLADDR && RTA_PAYLOAD(ra) == 6)
			ll = RTA_DATA(ra);
	}
	if (!dst || !ll)
		return;
	/* Every destination behind that next hop. */
	for (unsigned i = 0; i < LINK_NEIGH; i++) {
		struct neigh *n = &p->impl->neigh[i];

		if (n->family != nd->ndm_family || !n->routed || n->unreachable ||
		    memcmp(n->nh, dst, alen_of(n->family)))
			continue;
		memcpy(n->mac, ll, 6);
		n->valid = true;
		n->learned_ns = engine_now_ns();
		n->asked_ns = 0;
	}
}

/* Reads what the kernel sent: answers and neighbour events. Whether a
 * destination became resolved or unreachable. */
static bool nl_read(struct port *p)
{
	union {
		uint8_t b[16384];
		struct nlmsghdr align;
	} buf;
	ssize_t len;
	bool news = false;

	for (;;) {
		len = recv(p->impl->nl_fd, buf.b, sizeof(buf.b), MSG_DONTWAIT);
		if (len < 0 && errno == ENOBUFS)
			continue; /* events were lost: the next ask finds them */
		if (len <= 0)
			break;
		for (struct nlmsghdr *nh = &buf.align; NLMSG_OK(nh, (size_t)len);
		     nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_type == RTM_NEWROUTE) {
				on_route(p, nh);
				news = true;
			} else if (nh->nlmsg_type == RTM_NEWNEIGH) {
				on_neigh(p, nh);
				news = true;
			} else if (nh->nlmsg_type == NLMSG_ERROR &&
				   nh->nlmsg_len >= NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
				const struct nlmsgerr *e = NLMSG_DATA(nh);
				struct neigh *n = by_route_seq(p, nh->nlmsg_seq);

				/* No route: give up now. (A failed
				 * RTM_GETNEIGH is only "not known yet".) */
				if (e->error && n) {
					n->routed = n->unreachable = true;
					news = true;
				}
			}
		}
	}
	return news;
}

static void nl_readable(struct loop_src *src, uint32_t events)
{
	struct port_impl *pi = container_of(src, struct port_impl, nl_src);
	struct port *p = *(struct port **)(pi + 1);

	(void)events;
	if (nl_read(p))
		engine_kick(&p->ad->engine); /* the transport tries again */
}

int neigh_open(struct port *p)
{
	/* Neighbour events too: a resolution finishing is one. */
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = RTMGRP_NEIGH};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
	int err;

	if (fd < 0)
		return -errno;
	p->impl->nl_fd = fd;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return -errno;
	p->impl->nl_src.fd = fd;
	p->impl->nl_src.fn = nl_readable;
	err = loop_add(&p->ad->loop, &p->impl->nl_src, EPOLLIN);
	if (err)
		p->impl->nl_src.fn = NULL;
	return err;
}

void neigh_close(struct port *p)
{
	if (p->impl->nl_src.fn)
		loop_del(&p->ad->loop, &p->impl->nl_src);
	p->impl->nl_src.fn = NULL;
	if (p->impl->nl_fd >= 0)
		close(p->impl->nl_fd);
	p->impl->nl_fd = -1;
}

static bool fresh(const struct neigh *n, uint64_t now)
{
	return n->valid && now - n->learned_ns < NEIGH_REFRESH_NS;
}

int neigh_lookup(struct port *p, int family, const uint8_t ip[16], uint8_t mac[6])
{
	struct port_impl *pi = p->impl;
	size_t alen = alen_of(family);
	uint64_t now = engine_now_ns();
	struct neigh *n = NULL;

	for (unsigned i = 0; i < LINK_NEIGH; i++)
		if (pi->neigh[i].family == family && memcmp(pi->neigh[i].ip, ip, alen) == 0) {
			n = &pi->neigh[i];
			break;
		}
	if (n && fresh(n, now)) {
		memcpy(mac, n->mac, 6);
		return 0;
	}
	/* Our own address: a packet socket does not loop back. */
	if (family == p->family && memcmp(ip, p->addr, alen) == 0)
		return -EHOSTUNREACH;
	if (!n) {
		n = &pi->neigh[pi->neigh_next++ % LINK_NEIGH];
		*n = (struct neigh){.family = family};
		memcpy(n->ip, ip, alen);
	}
	nl_read(p);
	if (!fresh(n, now)) {
		if (!n->asked_ns) {
			/* A new resolution: the route first (it may have
			 * changed since the last one). */
			n->asked_ns = now;
			n->sent_ns = 0;
			n->routed = n->unreachable = false;
		}
		if (!n->unreachable && now - n->asked_ns <= NEIGH_GIVE_UP_NS &&
		    now - n->sent_ns >= NEIGH_RESEND_NS) {
			n->sent_ns = now;
			if (!n->routed) {
				ask_route(p, n);
				nl_read(p); /* answered synchronously */
			}
			if (n->routed && !n->unreachable) {
				ask_neigh(p, n);
				nl_read(p);
			}
		}
	}
	if (fresh(n, now)) {
		memcpy(mac, n->mac, 6);
		return 0;
	}
	if (n->unreachable || now - n->asked_ns > NEIGH_GIVE_UP_NS) {
		bool stale_ok = !n->unreachable && n->learned_ns;

		n->asked_ns = 0; /* the next call starts again */
		if (!stale_ok)
			return -EHOSTUNREACH;
	}
	if (n->learned_ns) { /* stale but known: use it while asking */
		memcpy(mac, n->mac, 6);
		return 0;
	}
	return -EAGAIN;
}
