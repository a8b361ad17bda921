/* SPDX-License-Identifier: MIT */
/*
 * Port captures: the packets a port sends and receives, one pcap record
 * per wire packet (GSO segments apart, with their own headers), Ethernet
 * link type, so that Wireshark and tshark decode them as RRoCE.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "adapter/adapter.h"
#include "adapter/fabric/link.h"

static void capture_end(struct port *p, int err)
{
	struct port_impl *pi = p->impl;
	void (*done)(void *, uint64_t, int) = pi->cap_done;
	void *arg = pi->cap_arg;
	uint64_t n = pi->cap_pkts;

	if (!pi->dumper)
		return;
	pcap_dump_close(pi->dumper);
	pcap_close(pi->pcap);
	pi->dumper = NULL;
	pi->pcap = NULL;
	if (pi->cap_timer.fn) {
		loop_del(&p->ad->loop, &pi->cap_timer);
		close(pi->cap_timer.fd);
		pi->cap_timer.fn = NULL;
	}
	pi->cap_done = NULL;
	if (done)
		done(arg, n, err);
}

static void capture_timer(struct loop_src *src, uint32_t events)
{
	struct port_impl *pi = container_of(src, struct port_impl, cap_timer);
	struct port *p = *(struct port **)(pi + 1);

	(void)events;
	capture_end(p, 0);
}

void capture_frame(struct port *p, const uint8_t *buf, size_t len)
{
	struct port_impl *pi = p->impl;
	struct pcap_pkthdr h = {.caplen = (bpf_u_int32)len, .len = (bpf_u_int32)len};

	if (!pi->dumper || !pi->cap_left)
		return;
	gettimeofday(&h.ts, NULL);
	pcap_dump((u_char *)pi->dumper, &h, buf);
	pi->cap_pkts++;
	if (pi->cap_left != UINT64_MAX && --pi->cap_left == 0)
		capture_end(p, 0);
}

void capture_pkt(struct port *p, const uint8_t eth[LINK_ETH_BYTES], const struct link_pkt *k)
{
	uint8_t *b = p->impl->capbuf;
	size_t n = LINK_ETH_BYTES + k->iplen + WIRE_UDP_BYTES;

	if (n + k->seglen > sizeof(p->impl->capbuf))
		return;
	memcpy(b, eth, LINK_ETH_BYTES);
	memcpy(b + LINK_ETH_BYTES, k->hdr, k->iplen + WIRE_UDP_BYTES);
	if (k->iplen == WIRE_IP4_BYTES) {
		uint8_t *ip = b + LINK_ETH_BYTES;

		wire_st16(ip + 10, wire_ip4_csum(ip)); /* the kernel writes it per segment */
		wire_st16(ip + WIRE_IP4_BYTES + 6, 0); /* IPv4: no UDP checksum */
	}
	memcpy(b + n, k->seg, k->seglen);
	capture_frame(p, b, n + k->seglen);
}

int port_capture_start(struct port *p, const char *path, uint64_t count, uint64_t duration_ms,
		       void (*done)(void *arg, uint64_t pkts, int err), void *arg)
{
	struct port_impl *pi = p->impl;
	int err;

	if (pi->dumper)
		return -EBUSY;
	pi->pcap = pcap_open_dead(DLT_EN10MB, 65535);
	if (!pi->pcap)
		return -ENOMEM;
	pi->dumper = pcap_dump_open(pi->pcap, path);
	if (!pi->dumper) {
		pcap_close(pi->pcap);
		pi->pcap = NULL;
		return -EACCES;
	}
	pi->cap_left = count ? count : UINT64_MAX;
	pi->cap_pkts = 0;
	pi->cap_done = done;
	pi->cap_arg = arg;
	if (duration_ms) {
		struct itimerspec its = {.it_value = {(time_t)(duration_ms / 1000),
						      (long)(duration_ms % 1000) * 1000000}};
		int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

		if (fd < 0 || timerfd_settime(fd, 0, &its, NULL)) {
			err = -errno;
			if (fd >= 0)
				close(fd);
			pi->cap_done = NULL;
			capture_end(p, err);
			return err;
		}
		pi->cap_timer.fd = fd;
		pi->cap_timer.fn = capture_timer;
		err = loop_add(&p->ad->loop, &pi->cap_timer, EPOLLIN);
		if (err) {
			close(fd);
			pi->cap_timer.fn = NULL;
			pi->cap_done = NULL;
			capture_end(p, err);
			return err;
		}
	}
	return 0;
}

void port_capture_stop(struct port *p)
{
	capture_end(p, -ECANCELED);
}
