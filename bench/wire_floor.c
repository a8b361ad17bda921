/* SPDX-License-Identifier: MIT */
/*
 * The floor of the fabric's bandwidth on this machine: what any RoCEv2
 * transport on the fabric port's road pays at least, with no transport at
 * all (no QPs, no PSNs, no ACKs, no retransmission). The road is the
 * port's (src/adapter/fabric/link*.c): its own Ethernet, IPv4 and UDP
 * headers through AF_PACKET with a vnet header, 64 KiB UDP GSO frames, 16
 * per sendmmsg, read back whole on the other side; every segment staged
 * with the fused copy + CRC (wire_crc_copy) out of a 1 MiB "tenant" buffer,
 * and checked while it is copied into a 1 MiB buffer on the receiver. A
 * transport only adds to this: if TCP (iperf3) is faster than the floor,
 * "RDMA WRITE >= 1.0x TCP" is out of reach on this road.
 *
 *   bench-wire-floor --server --bind ADDR [--port N]
 *   bench-wire-floor --client ADDR [--port N] [--seconds S] [--payload N] [--json]
 *
 * IPv4 only, the peer on the link (frames go to its MAC): run the roles
 * under `ip netns exec` in netns.sh's netns_pair. Data goes to UDP port N
 * (4793: not the RoCE port, which a ciovd may hold); an ordinary UDP
 * socket at N+1 carries HELLO (answered with the server's MAC) and END
 * (answered with what arrived), as in bench-udp-gso-pair. The server
 * serves one run and exits.
 *
 * A segment (--payload 1040: a WRITE_MIDDLE at path MTU 1024) is a 12-byte
 * BTH-like header, the data, a 4-byte CRC. The CRC is one fold over a
 * 48-byte pseudo header (8 bytes of ones, the IPv4 and UDP headers masked,
 * the BTH) and the data: the bytes and the cost of an IPv4 ICRC, but not
 * the ICRC itself (the IPv4 ID and lengths are masked too, so it checks
 * whether or not the kernel cut the GSO frame). rx_gbit_per_s counts the
 * UDP payload of the segments that checked, over first to last arrival,
 * as bench-udp-gso-pair does. Hidden `--corrupt N`: every Nth segment gets
 * a byte flipped after its CRC, to prove the check.
 *
 * Security model: on the server every frame is hostile; the vnet header's
 * segment size and the IP length are checked against the bytes received
 * before use, and frames not IPv4/UDP to ADDR:N are ignored.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "adapter/wire/crc_copy.h"
#include "adapter/wire/hdr.h"
#include "adapter/wire/icrc.h"
#include "adapter/wire/pkt.h"
#include "baseline/common.h"

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5 /* Linux 5.18; Debian 12's headers lack it */
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

#define ETH_BYTES 14
#define VNET_BYTES sizeof(struct virtio_net_hdr)
#define HDRS (VNET_BYTES + ETH_BYTES + WIRE_IP4_BYTES + WIRE_UDP_BYTES) /* a frame's */
#define BTH_BYTES 12
#define CRC_BYTES 4
#define PRE_BYTES 48 /* 8 ones + IPv4 20 + UDP 8 + BTH 12: the ICRC's, one fold */
#define MAX_SEGS 64  /* per GSO frame, as the port (LINK_GSO_SEGS) */
#define MAX_IP 65535 /* a GSO frame is one IP packet */
#define TX_FRAMES 16 /* per sendmmsg */
#define RX_FRAMES 16 /* per recvmmsg */
#define RX_BUF (HDRS + 65536 + 64)
#define TENANT (1u << 20)     /* the tenant's memory each side cycles through */
#define CTL_MAGIC 0x57464c52u /* "WFLR" */

enum ctl_op { CTL_HELLO = 1, CTL_HELLO_ACK, CTL_END, CTL_STATS };

/* The control message, host byte order (both ends are this program on one
 * machine). */
struct ctl_msg {
	uint32_t magic, op;
	uint8_t mac[6], pad[2]; /* HELLO_ACK: the server's */
	uint64_t segs, good_bytes, crc_errors, malformed, drops, first_ns, last_ns;
};

struct opts {
	int server, json;
	const char *peer, *bind; /* --client ADDR, --server --bind ADDR */
	unsigned port, payload, corrupt;
	double seconds;
};

/* The interface holding an address, and what the frames need from it. */
struct iface {
	char name[IFNAMSIZ];
	int index, mtu;
	uint8_t mac[6];
	struct in_addr addr, mask;
};

static void usage(FILE *f, const char *argv0)
{
	fprintf(f,
		"usage: %s --server --bind ADDR [--port N]\n"
		"       %s --client ADDR [--port N] [--seconds S] [--payload N] [--json]\n"
		"The wire's floor: AF_PACKET UDP GSO frames with a CRC over every segment,\n"
		"no transport. IPv4, peer on the link. Defaults: port 4793 (4794 for\n"
		"control), 3 s, payload 1040 (BTH 12 + 1024 + ICRC 4, path MTU 1024).\n",
		argv0, argv0);
}

/* *OUT = V as a number in [LO, HI]; -EINVAL if it is not one. */
static int number(const char *v, double lo, double hi, double *out)
{
	char *end;
	double d = strtod(v, &end);

	if (end == v || *end || d < lo || d > hi)
		return -EINVAL;
	*out = d;
	return 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){.port = 4793, .payload = 1040, .seconds = 3};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		double d = 0;

		if (!strcmp(a, "--server")) {
			o->server = 1;
			continue;
		} else if (!strcmp(a, "--json")) {
			o->json = 1;
			continue;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout, argv[0]);
			exit(0);
		} else if (!v) {
			fprintf(stderr, "%s: '%s' is not an option, or needs a value\n", argv[0],
				a);
			return -EINVAL;
		}
		i++;
		if (!strcmp(a, "--client")) {
			o->peer = v;
		} else if (!strcmp(a, "--bind")) {
			o->bind = v;
		} else if (!strcmp(a, "--port") && !number(v, 1, 65534, &d)) {
			o->port = (unsigned)d;
		} else if (!strcmp(a, "--payload") && !number(v, 32, 9000, &d)) {
			o->payload = (unsigned)d;
		} else if (!strcmp(a, "--seconds") && !number(v, 0.01, 3600, &d)) {
			o->seconds = d;
		} else if (!strcmp(a, "--corrupt") && !number(v, 1, 1e9, &d)) {
			o->corrupt = (unsigned)d;
		} else {
			fprintf(stderr,
				"%s: bad value '%s' for '%s' (port 1-65534, payload "
				"32-9000, seconds 0.01-3600)\n",
				argv[0], v, a);
			return -EINVAL;
		}
	}
	if (o->server ? !o->bind || o->peer : !o->peer || o->bind) {
		fprintf(stderr, "%s: say either --server --bind ADDR or --client ADDR\n", argv[0]);
		usage(stderr, argv[0]);
		return -EINVAL;
	}
	return 0;
}

/* The interface whose address is A: 0, or -EADDRNOTAVAIL / -errno. */
static int iface_of(struct in_addr a, struct iface *ifc)
{
	struct ifaddrs *all, *i;
	struct ifreq ifr = {0};
	int fd, err = -EADDRNOTAVAIL;

	if (getifaddrs(&all))
		return -errno;
	for (i = all; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !i->ifa_netmask ||
		    ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr != a.s_addr)
			continue;
		snprintf(ifc->name, sizeof(ifc->name), "%s", i->ifa_name);
		ifc->addr = a;
		ifc->mask = ((struct sockaddr_in *)i->ifa_netmask)->sin_addr;
		ifc->index = (int)if_nametoindex(i->ifa_name);
		err = ifc->index ? 0 : -ENODEV;
		break;
	}
	freeifaddrs(all);
	if (err)
		return err;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifc->name);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = -errno;
	memcpy(ifc->mac, ifr.ifr_hwaddr.sa_data, 6);
	if (!err && ioctl(fd, SIOCGIFMTU, &ifr))
		err = -errno;
	ifc->mtu = ifr.ifr_mtu;
	close(fd);
	return err;
}

/* A UDP socket bound to A:PORT (A 0: unbound): the fd or -errno. */
static int udp_socket(struct in_addr a, unsigned port)
{
	struct sockaddr_in sin = {
	    .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr = a};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err;

	if (fd < 0 || !a.s_addr)
		return fd < 0 ? -errno : fd;
	if (!bind(fd, (struct sockaddr *)&sin, sizeof(sin)))
		return fd;
	err = -errno;
	close(fd);
	return err;
}

/* Attaches a filter that drops everything FD would receive. */
static int drop_all(int fd)
{
	struct sock_filter drop[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
	struct sock_fprog prog = {1, drop};

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) ? -errno : 0;
}

/* AF_PACKET with vnet headers on IFC (IPv4 frames): the fd or -errno. A
 * sender's receives nothing (RX 0). Buffers as the port's (link.c). */
static int packet_socket(const struct iface *ifc, int rx)
{
	struct sockaddr_ll sll = {
	    .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP), .sll_ifindex = ifc->index};
	int one = 1, sbuf = 16 << 20, rbuf = 64 << 20, err = 0;
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)))
		err = -errno;
	/* Past the sysctl limits as root, else as much as they allow. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rbuf, sizeof(rbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rbuf, sizeof(rbuf));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sbuf, sizeof(sbuf)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sbuf, sizeof(sbuf));
	if (!err && !rx)
		err = drop_all(fd);
	/* Bind last: nothing arrives before the filter is in place. */
	if (!err && bind(fd, (struct sockaddr *)&sll, sizeof(sll)))
		err = -errno;
	if (!err)
		return fd;
	close(fd);
	return err;
}

/* The pseudo header's first 36 bytes from the IPv4 + UDP headers at IP:
 * what the ICRC masks set to ones, and the IPv4 ID and both lengths too
 * (they differ between a GSO frame and the segments cut from it). */
static void pre_of(uint8_t pre[PRE_BYTES], const uint8_t *ip)
{
	static const uint8_t ones[] = {1, 2, 3, 4, 5, 8, 10, 11, 24, 25, 26, 27};

	memset(pre, 0xff, 8);
	memcpy(pre + 8, ip, WIRE_IP4_BYTES + WIRE_UDP_BYTES);
	for (size_t i = 0; i < sizeof(ones); i++)
		pre[8 + ones[i]] = 0xff;
}

/* ---- server ---------------------------------------------------------- */

struct rx {
	struct in_addr addr;
	uint16_t port;
	uint8_t *tenant;
	size_t off;
	struct ctl_msg st;
};

/* One frame off the packet socket: its segments checked and placed. */
static void rx_frame(struct rx *r, const uint8_t *buf, size_t len)
{
	struct virtio_net_hdr vh;
	const uint8_t *eth = buf + VNET_BYTES, *ip = eth + ETH_BYTES, *udp = ip + WIRE_IP4_BYTES;
	uint8_t pre[PRE_BYTES];
	size_t total, seg;

	if (len < HDRS || wire_ld16(eth + 12) != ETH_P_IP || ip[0] != 0x45 ||
	    ip[9] != IPPROTO_UDP || memcmp(ip + 16, &r->addr, 4) || wire_ld16(udp + 2) != r->port)
		return; /* not ours (or IP options: not ours either) */
	memcpy(&vh, buf, sizeof(vh));
	/* The IP length bounds the segments (a short frame may be padded). */
	total = wire_ld16(ip + 2);
	if (total < WIRE_IP4_BYTES + WIRE_UDP_BYTES || total > len - VNET_BYTES - ETH_BYTES) {
		r->st.malformed++;
		return;
	}
	total -= WIRE_IP4_BYTES + WIRE_UDP_BYTES; /* the segments, one after the other */
	/* A packet alone, or a GSO frame of gso_size segments (UDP_L4 only:
	 * UFO means IP fragments). */
	if (vh.gso_type == VIRTIO_NET_HDR_GSO_NONE)
		seg = total;
	else if ((vh.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) == VIRTIO_NET_HDR_GSO_UDP_L4)
		seg = vh.gso_size;
	else
		seg = 0;
	if (seg < BTH_BYTES + CRC_BYTES) {
		r->st.malformed++;
		return;
	}
	pre_of(pre, ip);
	for (size_t off = 0; off < total; off += seg) {
		const uint8_t *s = udp + WIRE_UDP_BYTES + off;
		size_t sl = total - off < seg ? total - off : seg, data;
		uint32_t crc;

		if (sl < BTH_BYTES + CRC_BYTES) {
			r->st.malformed++;
			return;
		}
		data = sl - BTH_BYTES - CRC_BYTES;
		if (r->off + data > TENANT)
			r->off = 0;
		memcpy(pre + PRE_BYTES - BTH_BYTES, s, BTH_BYTES);
		crc = wire_crc_copy_pre(0, pre, PRE_BYTES, r->tenant + r->off, s + BTH_BYTES, data);
		r->off += data;
		r->st.segs++;
		if (crc != wire_icrc_load(s + BTH_BYTES + data)) {
			r->st.crc_errors++;
			continue;
		}
		r->st.good_bytes += sl;
	}
	r->st.last_ns = bl_now_ns();
	if (!r->st.first_ns)
		r->st.first_ns = r->st.last_ns;
}

/* Reads every frame queued on FD (a burst at most, per call). */
static void rx_drain(struct rx *r, int fd, uint8_t *bufs)
{
	struct mmsghdr mm[RX_FRAMES];
	struct iovec iov[RX_FRAMES];

	for (int k = 0; k < 64; k++) {
		int got;

		for (int i = 0; i < RX_FRAMES; i++) {
			iov[i] = (struct iovec){bufs + (size_t)i * RX_BUF, RX_BUF};
			mm[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
		}
		got = recvmmsg(fd, mm, RX_FRAMES, MSG_DONTWAIT, NULL);
		if (got <= 0)
			return;
		for (int i = 0; i < got; i++) {
			if (mm[i].msg_hdr.msg_flags & MSG_TRUNC)
				r->st.malformed++;
			else
				rx_frame(r, iov[i].iov_base, mm[i].msg_len);
		}
	}
}

/* The packet socket's drops since the last call (reading resets them). */
static uint64_t rx_drops(int fd)
{
	struct tpacket_stats ts = {0};
	socklen_t len = sizeof(ts);

	return getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &ts, &len) ? 0 : ts.tp_drops;
}

static int server(const struct opts *o)
{
	struct rx r = {.port = (uint16_t)o->port};
	struct iface ifc;
	int rsv = -1, ctl = -1, pkt = -1, one = 1, rc = 1, err;
	uint8_t *bufs = malloc((size_t)RX_FRAMES * RX_BUF);
	uint64_t idle_deadline = bl_now_ns() + 60 * 1000000000ull;

	r.tenant = malloc(TENANT);
	if (!bufs || !r.tenant)
		goto out;
	if (inet_pton(AF_INET, o->bind, &r.addr) != 1) {
		fprintf(stderr, "wire_floor: '%s' is not an IPv4 address\n", o->bind);
		goto out;
	}
	err = iface_of(r.addr, &ifc);
	if (err) {
		fprintf(stderr, "wire_floor: the interface of %s: %s\n", o->bind, strerror(-err));
		goto out;
	}
	/* The port held by a UDP socket that takes nothing (link.c): the
	 * kernel does not answer the frames with "port unreachable". */
	rsv = udp_socket(r.addr, o->port);
	ctl = udp_socket(r.addr, o->port + 1);
	if (rsv < 0 || ctl < 0) {
		fprintf(stderr, "wire_floor: bind %s:%u or :%u: %s\n", o->bind, o->port,
			o->port + 1, strerror(-(rsv < 0 ? rsv : ctl)));
		goto out;
	}
	setsockopt(rsv, SOL_UDP, UDP_GRO, &one, sizeof(one)); /* GSO frames not cut up for it */
	err = drop_all(rsv);
	pkt = packet_socket(&ifc, 1);
	if (err || pkt < 0) {
		fprintf(stderr, "wire_floor: packet socket on %s: %s (needs CAP_NET_RAW)\n",
			ifc.name, strerror(-(pkt < 0 ? pkt : err)));
		goto out;
	}
	for (;;) {
		struct pollfd p[2] = {{.fd = pkt, .events = POLLIN}, {.fd = ctl, .events = POLLIN}};
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		struct ctl_msg m;

		if (poll(p, 2, 1000) < 0 && errno != EINTR)
			goto out;
		if (bl_now_ns() > idle_deadline) {
			fprintf(stderr, "wire_floor: server idle for 60 s, giving up\n");
			goto out;
		}
		if (p[0].revents & POLLIN) {
			rx_drain(&r, pkt, bufs);
			idle_deadline = bl_now_ns() + 60 * 1000000000ull;
		}
		if (!(p[1].revents & POLLIN) ||
		    recvfrom(ctl, &m, sizeof(m), 0, (struct sockaddr *)&from, &fl) !=
			(ssize_t)sizeof(m) ||
		    m.magic != CTL_MAGIC)
			continue;
		if (m.op == CTL_HELLO) {
			rx_drain(&r, pkt, bufs);
			rx_drops(pkt);
			memset(&r.st, 0, sizeof(r.st));
			m.op = CTL_HELLO_ACK;
			memcpy(m.mac, ifc.mac, 6);
			sendto(ctl, &m, sizeof(m), 0, (struct sockaddr *)&from, fl);
		} else if (m.op == CTL_END) {
			rx_drain(&r, pkt, bufs); /* what is still queued arrived in time */
			r.st.drops = rx_drops(pkt);
			r.st.magic = CTL_MAGIC;
			r.st.op = CTL_STATS;
			/* Several copies: the client may miss one. */
			for (int i = 0; i < 3; i++)
				sendto(ctl, &r.st, sizeof(r.st), 0, (struct sockaddr *)&from, fl);
			rc = 0;
			goto out;
		}
	}
out:
	if (pkt >= 0)
		close(pkt);
	if (ctl >= 0)
		close(ctl);
	if (rsv >= 0)
		close(rsv);
	free(r.tenant);
	free(bufs);
	return rc;
}

/* ---- client ---------------------------------------------------------- */

/* The frame headers every frame starts from (IPv4 ID 0): vnet, Ethernet
 * to DMAC, IPv4 and UDP from IFC to DST:PORT for SEGS segments of PAYLOAD
 * bytes, the UDP checksum left to the kernel (link_tx.c, frame_hdr). */
static void frame_template(uint8_t *h, const struct iface *ifc, const uint8_t dmac[6],
			   struct in_addr dst, unsigned port, unsigned payload, unsigned segs)
{
	uint8_t *eth = h + VNET_BYTES, *ip = eth + ETH_BYTES, *udp = ip + WIRE_IP4_BYTES;
	uint32_t udplen = WIRE_UDP_BYTES + segs * payload, sum;
	struct virtio_net_hdr vh = {
	    .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
	    .csum_start = ETH_BYTES + WIRE_IP4_BYTES,
	    .csum_offset = 6,
	    .hdr_len = ETH_BYTES + WIRE_IP4_BYTES + WIRE_UDP_BYTES,
	    .gso_type = VIRTIO_NET_HDR_GSO_UDP_L4,
	    .gso_size = (uint16_t)payload,
	};

	memcpy(h, &vh, sizeof(vh));
	memcpy(eth, dmac, 6);
	memcpy(eth + 6, ifc->mac, 6);
	wire_st16(eth + 12, ETH_P_IP);
	memset(ip, 0, WIRE_IP4_BYTES + WIRE_UDP_BYTES);
	ip[0] = 0x45;
	wire_st16(ip + 2, (uint16_t)(WIRE_IP4_BYTES + udplen));
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	memcpy(ip + 12, &ifc->addr, 4);
	memcpy(ip + 16, &dst, 4);
	wire_st16(udp, (uint16_t)(0xc000 | (getpid() & 0x3fff))); /* RoCEv2 entropy range */
	wire_st16(udp + 2, (uint16_t)port);
	wire_st16(udp + 4, (uint16_t)udplen);
	/* The pseudo header's sum, not inverted: the kernel adds the rest,
	 * per segment. */
	sum = IPPROTO_UDP + udplen;
	for (int i = 12; i < 20; i += 2)
		sum += wire_ld16(ip + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	wire_st16(udp + 6, (uint16_t)sum);
}

/* The sender: a batch of frames, staged and sent again and again. */
struct tx {
	int fd;
	unsigned payload, segs, data, corrupt;
	uint8_t tmpl[HDRS], hdr[TX_FRAMES][HDRS];
	uint8_t pre[PRE_BYTES]; /* its last BTH_BYTES: the segment's BTH */
	struct iovec iov[TX_FRAMES][2];
	struct mmsghdr mm[TX_FRAMES];
	uint8_t *stage, *tenant;
	size_t off;
	uint16_t id;
	uint64_t seq, sent, dropped;
};

/* Stages TX_FRAMES frames (per frame its headers; per segment a BTH, the
 * data copied out of the tenant's memory with its CRC) and sends them in
 * one sendmmsg: 0, or -errno for an error other than a full queue. */
static int tx_batch(struct tx *t)
{
	uint8_t *bth = t->pre + PRE_BYTES - BTH_BYTES;

	for (int f = 0; f < TX_FRAMES; f++) {
		uint8_t *ip = t->hdr[f] + VNET_BYTES + ETH_BYTES;

		memcpy(t->hdr[f], t->tmpl, HDRS);
		wire_st16(ip + 4, t->id);
		wire_st16(ip + 10, wire_ip4_csum(ip));
		t->id = (uint16_t)(t->id + t->segs); /* the kernel numbers the segments' */
		for (unsigned i = 0; i < t->segs; i++) {
			uint8_t *s = (uint8_t *)t->iov[f][1].iov_base + (size_t)i * t->payload;
			uint32_t crc;

			wire_st32(bth + 8, (uint32_t)++t->seq & 0xffffff); /* a counter, no PSN */
			memcpy(s, bth, BTH_BYTES);
			if (t->off + t->data > TENANT)
				t->off = 0;
			crc = wire_crc_copy_pre(0, t->pre, PRE_BYTES, s + BTH_BYTES,
						t->tenant + t->off, t->data);
			t->off += t->data;
			wire_icrc_store(s + BTH_BYTES + t->data, crc);
			if (t->corrupt && t->seq % t->corrupt == 0)
				s[BTH_BYTES + t->data / 2] ^= 0x01;
		}
	}
	/* A full queue loses the rest of the batch, as the port's does. */
	for (int done = 0; done < TX_FRAMES;) {
		int n = sendmmsg(t->fd, t->mm + done, (unsigned)(TX_FRAMES - done), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
			t->dropped += (uint64_t)(TX_FRAMES - done) * t->segs;
			break;
		}
		if (n < 0)
			return -errno;
		t->sent += (uint64_t)n * t->segs;
		done += n;
	}
	return 0;
}

/* Prints the run: what was sent (T, TX_NS long), what arrived (M). */
static void report(const struct opts *o, const struct tx *t, uint64_t tx_ns,
		   const struct ctl_msg *m)
{
	double tx_s = (double)tx_ns / 1e9, rx_s, tx_gbps, rx_gbps, loss;

	/* Receiver time: first to last arrival, or the send time if that is
	 * longer (bench-udp-gso-pair's rule). */
	rx_s = m->last_ns > m->first_ns ? (double)(m->last_ns - m->first_ns) / 1e9 : tx_s;
	if (rx_s < tx_s)
		rx_s = tx_s;
	tx_gbps = (double)t->sent * t->payload * 8 / tx_s / 1e9;
	rx_gbps = (double)m->good_bytes * 8 / rx_s / 1e9;
	loss = t->sent && m->segs < t->sent ? 1.0 - (double)m->segs / (double)t->sent : 0;
	if (o->json)
		printf("{\"bench\":\"wire_floor\",\"payload\":%u,\"segments_per_frame\":%u,"
		       "\"seconds\":%.3f,\"tx_packets\":%llu,\"tx_dropped\":%llu,"
		       "\"rx_packets\":%llu,\"rx_crc_errors\":%llu,\"rx_malformed\":%llu,"
		       "\"rx_socket_drops\":%llu,\"loss\":%.4f,\"tx_gbit_per_s\":%.3f,"
		       "\"rx_gbit_per_s\":%.3f}\n",
		       t->payload, t->segs, tx_s, (unsigned long long)t->sent,
		       (unsigned long long)t->dropped, (unsigned long long)m->segs,
		       (unsigned long long)m->crc_errors, (unsigned long long)m->malformed,
		       (unsigned long long)m->drops, loss, tx_gbps, rx_gbps);
	else
		printf("wire floor, %u-byte segments, %u per GSO frame: sent %.2f Gbit/s, received "
		       "%.2f Gbit/s with a good CRC (loss %.2f%%, %llu CRC errors)\n",
		       t->payload, t->segs, tx_gbps, rx_gbps, loss * 100,
		       (unsigned long long)m->crc_errors);
}

static int client(const struct opts *o)
{
	/* A frame is as many segments as one IP packet holds, 64 at most. */
	unsigned segs = (MAX_IP - WIRE_IP4_BYTES - WIRE_UDP_BYTES) / o->payload;
	struct tx *t = malloc(sizeof(*t));
	struct sockaddr_in cdst = {.sin_family = AF_INET,
				   .sin_port = htons((uint16_t)(o->port + 1))};
	struct sockaddr_in src;
	socklen_t srclen = sizeof(src);
	struct ctl_msg m = {.magic = CTL_MAGIC, .op = CTL_HELLO};
	struct iface ifc;
	uint64_t t0, t1;
	int ctl = -1, rc = 1, err;

	if (!t)
		return 1;
	*t = (struct tx){.fd = -1,
			 .payload = o->payload,
			 .segs = segs < MAX_SEGS ? segs : MAX_SEGS,
			 .data = o->payload - BTH_BYTES - CRC_BYTES,
			 .corrupt = o->corrupt,
			 .stage = malloc((size_t)TX_FRAMES * MAX_IP),
			 .tenant = malloc(TENANT),
			 .id = (uint16_t)getpid()};
	if (!t->stage || !t->tenant)
		goto out;
	for (size_t i = 0; i < TENANT; i++)
		t->tenant[i] = (uint8_t)(i * 131 + (i >> 12));
	if (inet_pton(AF_INET, o->peer, &cdst.sin_addr) != 1) {
		fprintf(stderr, "wire_floor: '%s' is not an IPv4 address\n", o->peer);
		goto out;
	}
	/* The route's source address (the control socket, connected), and
	 * the interface that has it. */
	ctl = udp_socket((struct in_addr){0}, 0);
	if (ctl < 0 || connect(ctl, (struct sockaddr *)&cdst, sizeof(cdst)) ||
	    getsockname(ctl, (struct sockaddr *)&src, &srclen)) {
		fprintf(stderr, "wire_floor: no route to %s: %s\n", o->peer, strerror(errno));
		goto out;
	}
	err = iface_of(src.sin_addr, &ifc);
	if (err) {
		fprintf(stderr, "wire_floor: the interface of %s: %s\n", inet_ntoa(src.sin_addr),
			strerror(-err));
		goto out;
	}
	if ((cdst.sin_addr.s_addr ^ ifc.addr.s_addr) & ifc.mask.s_addr) {
		fprintf(stderr,
			"wire_floor: %s is not on %s's subnet (frames go to the peer's "
			"MAC, not through a gateway)\n",
			o->peer, ifc.name);
		goto out;
	}
	if (o->payload + WIRE_IP4_BYTES + WIRE_UDP_BYTES > (unsigned)ifc.mtu) {
		fprintf(stderr, "wire_floor: --payload %u does not fit %s's MTU %d (at most %d)\n",
			o->payload, ifc.name, ifc.mtu, ifc.mtu - WIRE_IP4_BYTES - WIRE_UDP_BYTES);
		goto out;
	}
	t->fd = packet_socket(&ifc, 0);
	if (t->fd < 0) {
		fprintf(stderr, "wire_floor: packet socket on %s: %s (needs CAP_NET_RAW)\n",
			ifc.name, strerror(-t->fd));
		goto out;
	}
	if (bl_ctl_exchange(ctl, &cdst, &m, sizeof(m), CTL_MAGIC, CTL_HELLO_ACK, 10000)) {
		fprintf(stderr, "wire_floor: no server at %s:%u\n", o->peer, o->port + 1);
		goto out;
	}
	frame_template(t->tmpl, &ifc, m.mac, cdst.sin_addr, o->port, o->payload, t->segs);
	pre_of(t->pre, t->tmpl + VNET_BYTES + ETH_BYTES);
	t->pre[PRE_BYTES - BTH_BYTES] = 0x07;		       /* RC RDMA WRITE middle */
	wire_st16(t->pre + PRE_BYTES - BTH_BYTES + 2, 0xffff); /* P_Key */
	wire_st32(t->pre + PRE_BYTES - BTH_BYTES + 4, 0x11);   /* destination QP */
	for (int f = 0; f < TX_FRAMES; f++) {
		t->iov[f][0] = (struct iovec){t->hdr[f], HDRS};
		t->iov[f][1] =
		    (struct iovec){t->stage + (size_t)f * MAX_IP, (size_t)t->segs * t->payload};
		t->mm[f] = (struct mmsghdr){.msg_hdr = {.msg_iov = t->iov[f], .msg_iovlen = 2}};
	}
	t0 = t1 = bl_now_ns();
	while (t1 - t0 < (uint64_t)(o->seconds * 1e9)) {
		err = tx_batch(t);
		if (err) {
			fprintf(stderr, "wire_floor: sendmmsg on %s: %s\n", ifc.name,
				strerror(-err));
			goto out;
		}
		t1 = bl_now_ns();
	}
	/* Let the receiver drain what is in flight before asking. */
	usleep(50000);
	m = (struct ctl_msg){.magic = CTL_MAGIC, .op = CTL_END};
	if (bl_ctl_exchange(ctl, &cdst, &m, sizeof(m), CTL_MAGIC, CTL_STATS, 5000)) {
		fprintf(stderr, "wire_floor: the server did not report\n");
		goto out;
	}
	report(o, t, t1 - t0, &m);
	rc = 0;
out:
	if (t->fd >= 0)
		close(t->fd);
	if (ctl >= 0)
		close(ctl);
	free(t->tenant);
	free(t->stage);
	free(t);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o;

	if (parse(argc, argv, &o))
		return 2;
	return o.server ? server(&o) : client(&o);
}
