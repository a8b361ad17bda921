/* SPDX-License-Identifier: MIT */
/*
 * Link addresses of a port's peers, from the kernel's neighbour table
 * (rtnetlink): asked without blocking; when the kernel does not know one,
 * it is asked to resolve it (NTF_USE, as `ip neigh ... use`) and the
 * transport tries again a little later. Only next hops on the port's own
 * subnet: a peer behind a router is not reachable yet.
 *
 * Security model: netlink answers come from the kernel, but are still
 * length-checked attribute by attribute.
 */
#include <errno.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "adapter/adapter.h"
#include "adapter/fabric/link.h"

/* A known address is asked again after this long (the kernel's entry may
 * have changed). */
#define NEIGH_REFRESH_NS (30ull * 1000000000)
/* How long the kernel may take to resolve one. */
#define NEIGH_GIVE_UP_NS (3ull * 1000000000)

int neigh_open(struct port *p)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	p->impl->nl_fd = fd;
	return bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
}

struct nlreq {
	struct nlmsghdr nh;
	struct ndmsg nd;
	struct rtattr ra;
	uint8_t addr[16];
};

static void nl_send(struct port *p, uint16_t type, uint16_t flags, int family, const uint8_t *ip)
{
	size_t alen = family == AF_INET ? 4 : 16;
	struct nlreq r = {
		.nh = {.nlmsg_len = (uint32_t)(NLMSG_LENGTH(sizeof(struct ndmsg)) + RTA_LENGTH(alen)),
		       .nlmsg_type = type,
		       .nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags),
		       .nlmsg_seq = ++p->impl->nl_seq},
		.nd = {.ndm_family = (uint8_t)family, .ndm_ifindex = p->ifindex},
		.ra = {.rta_len = (unsigned short)RTA_LENGTH(alen), .rta_type = NDA_DST},
	};

	if (type == RTM_NEWNEIGH) {
		r.nd.ndm_flags = NTF_USE;
		r.nd.ndm_state = NUD_NONE;
	}
	memcpy(r.addr, ip, alen);
	if (send(p->impl->nl_fd, &r, r.nh.nlmsg_len, 0) < 0)
		return;
}

/* Reads what the kernel answered; fills N if it knows a valid address. */
static void nl_read(struct port *p, struct neigh *n)
{
	uint8_t buf[8192];
	ssize_t len;

	while ((len = recv(p->impl->nl_fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)len);
		     nh = NLMSG_NEXT(nh, len)) {
			struct ndmsg *nd;
			struct rtattr *ra;
			int rlen;
			const uint8_t *dst = NULL, *ll = NULL;
			size_t alen = n->family == AF_INET ? 4 : 16;

			if (nh->nlmsg_type != RTM_NEWNEIGH ||
			    nh->nlmsg_len < NLMSG_LENGTH(sizeof(*nd)))
				continue;
			nd = NLMSG_DATA(nh);
			if (nd->ndm_family != n->family || nd->ndm_ifindex != p->ifindex)
				continue;
			rlen = (int)(nh->nlmsg_len - NLMSG_LENGTH(sizeof(*nd)));
			for (ra = (struct rtattr *)((uint8_t *)nd + NLMSG_ALIGN(sizeof(*nd)));
			     RTA_OK(ra, rlen); ra = RTA_NEXT(ra, rlen)) {
				if (ra->rta_type == NDA_DST && RTA_PAYLOAD(ra) == alen)
					dst = RTA_DATA(ra);
				else if (ra->rta_type == NDA_LLADDR && RTA_PAYLOAD(ra) == 6)
					ll = RTA_DATA(ra);
			}
			if (!dst || !ll || memcmp(dst, n->ip, alen) ||
			    !(nd->ndm_state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE |
					       NUD_PERMANENT | NUD_NOARP)))
				continue;
			memcpy(n->mac, ll, 6);
			n->valid = true;
			n->learned_ns = engine_now_ns();
		}
	}
}

int neigh_lookup(struct port *p, int family, const uint8_t ip[16], uint8_t mac[6])
{
	struct port_impl *pi = p->impl;
	size_t alen = family == AF_INET ? 4 : 16;
	uint64_t now = engine_now_ns();
	struct neigh *n = NULL;

	for (unsigned i = 0; i < LINK_NEIGH; i++)
		if (pi->neigh[i].family == family && memcmp(pi->neigh[i].ip, ip, alen) == 0) {
			n = &pi->neigh[i];
			break;
		}
	if (n && n->valid && now - n->learned_ns < NEIGH_REFRESH_NS) {
		memcpy(mac, n->mac, 6);
		return 0;
	}
	if (!n) {
		n = &pi->neigh[pi->neigh_next++ % LINK_NEIGH];
		*n = (struct neigh){.family = family};
		memcpy(n->ip, ip, alen);
	}
	/* A stale entry keeps working while it is asked again. */
	nl_read(p, n);
	if (n->valid && now - n->learned_ns < NEIGH_REFRESH_NS) {
		memcpy(mac, n->mac, 6);
		n->asked_ns = 0;
		return 0;
	}
	if (!n->asked_ns)
		n->asked_ns = now;
	else if (now - n->asked_ns > NEIGH_GIVE_UP_NS) {
		n->asked_ns = 0;
		return -EHOSTUNREACH;
	}
	nl_send(p, RTM_GETNEIGH, 0, family, ip);
	nl_send(p, RTM_NEWNEIGH, NLM_F_CREATE, family, ip);
	nl_read(p, n);
	if (n->valid) {
		memcpy(mac, n->mac, 6);
		n->asked_ns = 0;
		return 0;
	}
	if (n->learned_ns) { /* stale but known: use it */
		memcpy(mac, n->mac, 6);
		return 0;
	}
	return -EAGAIN;
}
