/* SPDX-License-Identifier: MIT */
/*
 * Fabric ports: opening one on an address of an interface, its sockets,
 * routing a GID to a port (fabric/port.h).
 *
 * Why AF_PACKET: the RoCEv2 ICRC covers the IPv4 ID, which a UDP socket
 * chooses itself and hides (FACTS.md), so the port writes whole frames.
 * The vnet header lets one send carry a 64 KiB UDP GSO super-packet that
 * the kernel cuts into wire packets, numbering their IDs from the one
 * written. The kernel's own UDP stack also sees what arrives: a UDP socket
 * bound to the port's address and port, with UDP_GRO on (so GSO frames are
 * not cut up for it) and a filter that drops everything, keeps it from
 * answering "port unreachable" and from queueing a byte.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "adapter/adapter.h"
#include "adapter/fabric/link.h"
#include "adapter/fabric/xport.h"
#include "adapter/log.h"

#ifndef UDP_GRO
#define UDP_GRO 104
#endif

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

void port_gid_of(int family, const uint8_t ip[16], uint8_t gid[16])
{
	if (family == AF_INET) {
		memcpy(gid, v4mapped, 12);
		memcpy(gid + 12, ip, 4);
	} else {
		memcpy(gid, ip, 16);
	}
}

int port_ip_of_gid(const uint8_t gid[16], uint8_t ip[16])
{
	memset(ip, 0, 16);
	if (memcmp(gid, v4mapped, 12) == 0) {
		memcpy(ip, gid + 12, 4);
		return AF_INET;
	}
	memcpy(ip, gid, 16);
	return AF_INET6;
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= PORT_NAME_MAX || s[0] == '-' || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(s[i] == '-' || s[i] == '_' || s[i] == '.' || (s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
	return true;
}

struct port *port_find(struct adapter *ad, const char *name)
{
	for (unsigned i = 0; i < ad->nports; i++)
		if (strcmp(ad->ports[i]->name, name) == 0)
			return ad->ports[i];
	return NULL;
}

unsigned port_count(struct adapter *ad)
{
	return ad->nports;
}

struct port *port_at(struct adapter *ad, unsigned i)
{
	return i < ad->nports ? ad->ports[i] : NULL;
}

struct port *port_by_gid(struct adapter *ad, const uint8_t gid[16])
{
	for (unsigned i = 0; i < ad->nports; i++)
		if (memcmp(ad->ports[i]->gid, gid, 16) == 0)
			return ad->ports[i];
	return NULL;
}

static bool in_prefix(const uint8_t *a, const uint8_t *pfx, unsigned bits)
{
	unsigned bytes = bits / 8, rest = bits % 8;

	if (memcmp(a, pfx, bytes))
		return false;
	return !rest || ((a[bytes] ^ pfx[bytes]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

struct port *port_route(struct adapter *ad, const uint8_t dgid[16], struct port_dst *dst)
{
	uint8_t ip[16];
	int family = port_ip_of_gid(dgid, ip);
	struct port *first = NULL;

	for (unsigned i = 0; i < ad->nports; i++) {
		struct port *p = ad->ports[i];

		if (p->family != family || !p->up)
			continue;
		if (!first)
			first = p;
		if (in_prefix(ip, p->impl->prefix, p->impl->prefix_len)) {
			first = p;
			break;
		}
	}
	if (first) {
		*dst = (struct port_dst){.family = family};
		memcpy(dst->ip, ip, 16);
	}
	return first;
}

int port_rx_fd(const struct port *p)
{
	return p->impl->fd;
}

/* The interface holding ADDR: its name, index, subnet. */
static int find_iface(struct port *p)
{
	struct ifaddrs *ifa, *i;
	int err = -EADDRNOTAVAIL;

	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		const uint8_t *a, *m;
		size_t alen = p->family == AF_INET ? 4 : 16;

		if (!i->ifa_addr || i->ifa_addr->sa_family != p->family)
			continue;
		if (p->family == AF_INET) {
			a = (const uint8_t *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr;
			m = i->ifa_netmask ? (const uint8_t *)&((struct sockaddr_in *)i->ifa_netmask)->sin_addr : NULL;
		} else {
			a = (const uint8_t *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
			m = i->ifa_netmask ? (const uint8_t *)&((struct sockaddr_in6 *)i->ifa_netmask)->sin6_addr : NULL;
		}
		if (memcmp(a, p->addr, alen))
			continue;
		snprintf(p->ifname, sizeof(p->ifname), "%s", i->ifa_name);
		p->ifindex = (int)if_nametoindex(i->ifa_name);
		p->impl->prefix_len = 0;
		for (size_t b = 0; m && b < alen; b++) {
			p->impl->prefix[b] = a[b] & m[b];
			p->impl->prefix_len += (unsigned)__builtin_popcount(m[b]);
		}
		err = p->ifindex ? 0 : -ENODEV;
		break;
	}
	freeifaddrs(ifa);
	return err;
}

/* The link's MAC and MTU; the active path MTU (IBA enum sizes) is the
 * largest whose packets (IP, UDP, BTH, RETH + ImmDt, payload, ICRC) fit. */
static int link_params(struct port *p)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	unsigned over = (p->family == AF_INET ? WIRE_IP4_BYTES : WIRE_IP6_BYTES) + WIRE_UDP_BYTES +
			WIRE_BTH_BYTES + WIRE_RETH_BYTES + WIRE_IMMDT_BYTES + WIRE_ICRC_BYTES;
	int err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", p->ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) == 0)
		memcpy(p->mac, ifr.ifr_hwaddr.sa_data, 6);
	else
		err = -errno;
	if (!err && ioctl(fd, SIOCGIFMTU, &ifr) < 0)
		err = -errno;
	close(fd);
	if (err)
		return err;
	p->mtu = 0;
	for (uint32_t m = WIRE_PMTU_MAX; m >= WIRE_PMTU_MIN; m /= 2)
		if (m + over <= (unsigned)ifr.ifr_mtu && (!p->mtu_cfg || m <= p->mtu_cfg)) {
			p->mtu = m;
			break;
		}
	return p->mtu ? 0 : -EMSGSIZE;
}

/* Accept only UDP to our address and port (classic BPF on the frame). */
static int packet_filter(struct port *p, int fd)
{
	uint32_t a4;
	uint32_t a6[4];
	struct sock_filter v4[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 23),		 /* IP protocol */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 8),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 30),		 /* destination */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 6),	 /* patched: a4 */
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 20),		 /* fragment */
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 4, 0),
		BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 14),	 /* X = IHL * 4 */
		BPF_STMT(BPF_LD | BPF_H | BPF_IND, 16),		 /* UDP dport */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, p->udp_port, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0x40000),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_filter v6[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 20),		 /* next header */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 11),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 38),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 9),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 42),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 7),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 46),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 5),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 50),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 3),
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 56),		 /* UDP dport */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, p->udp_port, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0x40000),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog;

	if (p->family == AF_INET) {
		memcpy(&a4, p->addr, 4);
		v4[3].k = ntohl(a4);
		prog = (struct sock_fprog){sizeof(v4) / sizeof(v4[0]), v4};
	} else {
		memcpy(a6, p->addr, 16);
		for (int i = 0; i < 4; i++)
			v6[3 + 2 * i].k = ntohl(a6[i]);
		prog = (struct sock_fprog){sizeof(v6) / sizeof(v6[0]), v6};
	}
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) ? -errno : 0;
}

static void port_readable(struct loop_src *src, uint32_t events)
{
	struct port_impl *pi = container_of(src, struct port_impl, src);
	struct port *p = *(struct port **)(pi + 1);

	(void)events;
	/* The engine reads in its next pass. */
	engine_kick(&p->ad->engine);
}

static int open_packet(struct port *p)
{
	struct port_impl *pi = p->impl;
	int one = 1, buf = 16 << 20, rbuf = 64 << 20;
	uint16_t proto = htons(p->family == AF_INET ? ETH_P_IP : ETH_P_IPV6);
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = proto,
				  .sll_ifindex = p->ifindex};
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int err;

	if (fd < 0)
		return -errno;
	pi->fd = fd;
	if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)))
		return -errno;
	/* Room for bursts of 64 KiB frames; past the sysctl limits as root
	 * (CAP_NET_ADMIN), else as much as they allow. Receive: what several
	 * peers' QPs may have in flight (XQ_WIN_PKTS each) while this ciovd
	 * waits for a core: at 16 MiB, two flows of four QPs overflowed it
	 * and every drop cost an ACK timeout. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rbuf, sizeof(rbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rbuf, sizeof(rbuf));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	err = packet_filter(p, fd);
	if (err)
		return err;
	if (link_rx_ring(p, fd))
		log_info("port %s: no receive ring, reading with recvmmsg", p->name);
	/* Bind last: nothing arrives before the filter is in place. */
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)))
		return -errno;
	return 0;
}

static int open_reserve(struct port *p)
{
	struct sock_filter drop[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
	struct sock_fprog prog = {1, drop};
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int one = 1, fd = socket(p->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	p->impl->rsv_fd = fd;
	if (p->family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;

		s->sin_family = AF_INET;
		s->sin_port = htons(p->udp_port);
		memcpy(&s->sin_addr, p->addr, 4);
		len = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons(p->udp_port);
		memcpy(&s->sin6_addr, p->addr, 16);
		len = sizeof(*s);
	}
	setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)))
		return -errno;
	if (bind(fd, (struct sockaddr *)&ss, len))
		return -errno;
	return 0;
}

static void port_free(struct port *p)
{
	struct port_impl *pi;

	if (!p)
		return;
	pi = p->impl;
	if (pi) {
		if (pi->src.fn)
			loop_del(&p->ad->loop, &pi->src);
		if (pi->fd >= 0)
			close(pi->fd);
		if (pi->rsv_fd >= 0)
			close(pi->rsv_fd);
		neigh_close(p);
		link_rx_ring_free(p);
		free(pi->rxbuf);
		free(pi->stage);
		free(pi);
	}
	free(p);
}

int port_add(struct adapter *ad, const char *name, const char *addr, uint16_t udp,
	     uint32_t mtu, struct port **ret, const char **err)
{
	struct port *p;
	int e;

	if (!name_ok(name)) {
		*err = "a port name is 1-15 characters of [A-Za-z0-9_.-], not starting with '-' or '.'";
		return -EINVAL;
	}
	if (port_find(ad, name)) {
		*err = "a port of that name exists";
		return -EEXIST;
	}
	if (mtu && mtu != 256 && mtu != 512 && mtu != 1024 && mtu != 2048 && mtu != 4096) {
		*err = "mtu must be 256, 512, 1024, 2048 or 4096";
		return -EINVAL;
	}
	if (ad->nports == PORT_MAX) {
		*err = "the adapter has all the ports it can have";
		return -ENOSPC;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	/* port_impl is followed by a back pointer to the port (port_readable). */
	p->impl = calloc(1, sizeof(*p->impl) + sizeof(struct port *));
	if (!p->impl) {
		free(p);
		return -ENOMEM;
	}
	*(struct port **)(p->impl + 1) = p;
	p->impl->fd = p->impl->rsv_fd = p->impl->nl_fd = -1;
	p->ad = ad;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->udp_port = udp ? udp : WIRE_ROCE_PORT;
	p->mtu_cfg = mtu;
	port_qos_default(&p->vl.cfg); /* no VLs until `port set` */
	port_vl_derive(&p->vl);
	if (inet_pton(AF_INET, addr, p->addr) == 1) {
		p->family = AF_INET;
	} else if (inet_pton(AF_INET6, addr, p->addr) == 1) {
		p->family = AF_INET6;
	} else {
		*err = "not an IPv4 or IPv6 address";
		e = -EINVAL;
		goto fail;
	}
	port_gid_of(p->family, p->addr, p->gid);
	for (unsigned i = 0; i < ad->nports; i++)
		if (memcmp(ad->ports[i]->gid, p->gid, 16) == 0 && ad->ports[i]->udp_port == p->udp_port) {
			*err = "another port has that address and UDP port";
			e = -EADDRINUSE;
			goto fail;
		}
	e = find_iface(p);
	if (e) {
		*err = "no interface in ciovd's network namespace has that address";
		goto fail;
	}
	e = link_params(p);
	if (e) {
		*err = "cannot read the interface's MAC and MTU, or its MTU is below 256 + headers";
		goto fail;
	}
	e = open_reserve(p);
	if (e) {
		*err = e == -EADDRINUSE ? "the UDP port is in use on that address"
					: "cannot reserve the UDP port";
		goto fail;
	}
	e = open_packet(p);
	if (!e)
		e = neigh_open(p);
	if (!e)
		e = link_tx_init(p);
	if (!e)
		e = link_rx_init(p);
	if (e) {
		*err = "cannot open the port's packet socket (ciovd needs CAP_NET_RAW)";
		goto fail;
	}
	p->impl->src.fd = p->impl->fd;
	p->impl->src.fn = port_readable;
	e = loop_add(&ad->loop, &p->impl->src, EPOLLIN);
	if (e) {
		p->impl->src.fn = NULL;
		*err = "cannot watch the port's socket";
		goto fail;
	}
	p->up = true;
	ad->ports[ad->nports++] = p;
	log_info("port %s: %s on %s (ifindex %d), udp %u, mtu %u", p->name, addr, p->ifname,
		 p->ifindex, p->udp_port, p->mtu);
	if (ret)
		*ret = p;
	return 0;
fail:
	port_free(p);
	return e;
}

void port_del(struct port *p)
{
	struct adapter *ad = p->ad;
	unsigned i;

	port_capture_stop(p);
	xport_port_gone(ad, p);
	for (i = 0; i < ad->nports && ad->ports[i] != p; i++)
		;
	if (i < ad->nports) {
		memmove(&ad->ports[i], &ad->ports[i + 1], (ad->nports - i - 1) * sizeof(ad->ports[0]));
		ad->nports--;
	}
	port_free(p);
}

void port_fini_all(struct adapter *ad)
{
	while (ad->nports)
		port_del(ad->ports[ad->nports - 1]);
}
