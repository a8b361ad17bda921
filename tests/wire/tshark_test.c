// SPDX-License-Identifier: MIT
/*
 * Packets built by the wire layer, written to a pcap with libpcap, must
 * decode in tshark as RRoCE with the opcode, QPN, PSN and extension header
 * fields we wrote. Exit 77 (skip) with a reason when tshark is missing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "adapter/wire/pkt.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct sent {
	uint8_t op;
	uint32_t qpn, psn;
	uint32_t mask;
	uint64_t va;
	uint32_t rkey, dmalen, sqp, msn;
	uint32_t icrc;
};

static const uint8_t ops[] = {
#define OP_CODE(name, code, mask) code,
	WIRE_OPCODES(OP_CODE)
#undef OP_CODE
};

static int fail(const char *fmt, const char *a, int line)
{
	fprintf(stderr, "FAIL line %d: ", line);
	fprintf(stderr, fmt, a);
	fputc('\n', stderr);
	return 1;
}

int main(void)
{
	static uint8_t frame[14 + 4096 + WIRE_HDR_MAX];
	static uint8_t payload[1024];
	struct sent sent[2 * ARRAY_SIZE(ops)];
	char path[] = "/tmp/ciov-wire-XXXXXX.pcap", cmd[512], line[1024];
	size_t n = 0;
	pcap_t *pd;
	pcap_dumper_t *dump;
	FILE *out;
	int fd, bad = 0, rows = 0;

	if (system("command -v tshark >/dev/null 2>&1") != 0) {
		printf("SKIP: tshark not installed (apt-get install tshark)\n");
		return 77;
	}
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)i;
	fd = mkstemps(path, 5);
	if (fd < 0)
		return fail("mkstemps: %s", strerror(errno), __LINE__);
	close(fd);
	pd = pcap_open_dead(DLT_EN10MB, 65535);
	dump = pd ? pcap_dump_open(pd, path) : NULL;
	if (!dump)
		return fail("pcap: %s", pd ? pcap_geterr(pd) : "open_dead", __LINE__);

	for (int f = 0; f < 2; f++)
		for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
			const struct wire_opcode_info *info = wire_opcode_get(ops[i]);
			struct wire_pkt_desc d = { 0 };
			struct sent *s = &sent[n];
			struct iovec iov = { payload, 0 };
			struct pcap_pkthdr ph = { 0 };
			size_t len;

			d.ip.family = f ? AF_INET6 : AF_INET;
			d.ip.src[0] = f ? 0xfd : 10;
			d.ip.src[f ? 15 : 3] = 1;
			d.ip.dst[0] = f ? 0xfd : 10;
			d.ip.dst[f ? 15 : 3] = 2;
			d.ip.id = (uint16_t)n;
			d.ip.sport = (uint16_t)(49152 + n);
			d.csum = WIRE_CSUM_FULL;
			d.bth.opcode = ops[i];
			d.bth.pkey = 0xffff;
			d.bth.dqpn = s->qpn = 0x000100 + (uint32_t)n * 0x10101;
			d.bth.psn = s->psn = 0xfffff0 + (uint32_t)n;  /* wraps */
			d.bth.psn &= WIRE_PSN_MASK;
			s->psn &= WIRE_PSN_MASK;
			d.ext.reth.va = s->va = 0x7f0000000000ull + n * 0x1000;
			d.ext.reth.rkey = s->rkey = 0x1000 + (uint32_t)n;
			d.ext.reth.len = s->dmalen = 4096 * (uint32_t)(n + 1);
			d.ext.atmeth.va = s->va;
			d.ext.atmeth.rkey = s->rkey;
			d.ext.deth.qkey = 0x11111111;
			d.ext.deth.sqp = s->sqp = 0x42 + (uint32_t)n;
			d.ext.aeth.msn = s->msn = 7 + (uint32_t)n;
			s->op = ops[i];
			s->mask = info->mask;
			if (info->mask & WIRE_PAYLOAD)
				iov.iov_len = info->mask & WIRE_END ? 1 + n * 13 % 1000 : 1024;
			memset(frame, 0, 14);
			frame[0] = 0x02;                /* locally administered MACs */
			frame[6] = 0x02;
			frame[11] = 1;
			frame[12] = f ? 0x86 : 0x08;
			frame[13] = f ? 0xdd : 0x00;
			if (wire_pkt_build(frame + 14, sizeof(frame) - 14, &d, &iov, 1, &len))
				return fail("build %s", info->name, __LINE__);
			s->icrc = wire_icrc_load(frame + 14 + len - 4);
			ph.caplen = ph.len = (bpf_u_int32)(14 + len);
			ph.ts.tv_sec = 1700000000;
			ph.ts.tv_usec = (suseconds_t)n;
			pcap_dump((u_char *)dump, &ph, frame);
			n++;
		}
	pcap_dump_close(dump);
	pcap_close(pd);

	snprintf(cmd, sizeof(cmd),
		 "tshark -n -r %s -T fields -E separator=, -E occurrence=f "
		 "-e frame.protocols -e infiniband.bth.opcode -e infiniband.bth.destqp "
		 "-e infiniband.bth.psn -e infiniband.reth.va -e infiniband.reth.r_key "
		 "-e infiniband.reth.dmalen -e infiniband.deth.srcqp -e infiniband.aeth.msn "
		 "-e infiniband.invariant.crc -e _ws.malformed 2>/dev/null", path);
	out = popen(cmd, "r");
	if (!out)
		return fail("popen %s", cmd, __LINE__);
	while (fgets(line, sizeof(line), out)) {
		char *fld[11] = { 0 }, *p = line, *save = NULL;
		struct sent *s;
		int k = 0;

		line[strcspn(line, "\n")] = 0;
		/* strsep keeps empty fields. */
		(void)save;
		while (k < 11 && (fld[k] = strsep(&p, ",")) != NULL)
			k++;
		if (rows >= (int)n || k < 11) {
			bad |= fail("unexpected row: %s", line, __LINE__);
			rows++;
			continue;
		}
		s = &sent[rows++];
		if (!strstr(fld[0], "infiniband"))
			bad |= fail("not decoded as InfiniBand: %s", fld[0], __LINE__);
		if (strtoul(fld[1], NULL, 0) != s->op)
			bad |= fail("opcode %s", fld[1], __LINE__);
		if (strtoul(fld[2], NULL, 0) != s->qpn)
			bad |= fail("destqp %s", fld[2], __LINE__);
		if (strtoul(fld[3], NULL, 0) != s->psn)
			bad |= fail("psn %s", fld[3], __LINE__);
		/* Wireshark shows AtomicETH's VA and R_Key in the RETH fields. */
		if (s->mask & (WIRE_RETH | WIRE_ATMETH)) {
			if (strtoull(fld[4], NULL, 0) != s->va)
				bad |= fail("reth.va %s", fld[4], __LINE__);
			if (strtoul(fld[5], NULL, 0) != s->rkey)
				bad |= fail("reth.r_key %s", fld[5], __LINE__);
			if ((s->mask & WIRE_RETH) && strtoul(fld[6], NULL, 0) != s->dmalen)
				bad |= fail("reth.dmalen %s", fld[6], __LINE__);
		} else if (*fld[4]) {
			bad |= fail("RETH decoded where none was sent: %s", fld[4], __LINE__);
		}
		if ((s->mask & WIRE_DETH) && strtoul(fld[7], NULL, 0) != s->sqp)
			bad |= fail("deth.srcqp %s", fld[7], __LINE__);
		if ((s->mask & WIRE_AETH) && strtoul(fld[8], NULL, 0) != s->msn)
			bad |= fail("aeth.msn %s", fld[8], __LINE__);
		if (*fld[10])
			bad |= fail("tshark says malformed: %s", fld[10], __LINE__);
		if (*fld[9]) {
			/* tshark shows the ICRC as the 4 wire bytes big-endian. */
			uint32_t shown = (uint32_t)strtoul(fld[9], NULL, 0);
			uint32_t wire = __builtin_bswap32(s->icrc);

			if (shown != wire && shown != s->icrc)
				bad |= fail("icrc %s", fld[9], __LINE__);
		}
	}
	pclose(out);
	if (rows != (int)n) {
		fprintf(stderr, "FAIL: tshark printed %d rows for %zu packets\n", rows, n);
		bad = 1;
	}
	if (!bad)
		unlink(path);
	else
		fprintf(stderr, "capture kept: %s\n", path);
	printf("%s: %zu packets decoded as RRoCE with the fields written\n",
	       bad ? "FAIL" : "ok", n);
	return bad;
}
