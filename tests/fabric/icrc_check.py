#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""icrc_check.py PCAP [--min N] [--json]: recompute the ICRC of every
RoCEv2 packet (UDP 4791) in a pcap with roce.py's independent
implementation and compare it with the trailer (least significant byte
first). Exit 0 if at least N (default 1) packets were checked and all
matched, 1 otherwise. Prints a summary per opcode; --json prints one line
per packet (opcode, destqp, psn, length, ip id, ok)."""
import argparse
import collections
import json
import sys

import roce


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pcap")
    ap.add_argument("--min", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    roce.self_test()
    n = bad = other = 0
    per_op = collections.Counter()
    for _, fr in roce.read_pcap(a.pcap):
        ip = roce.ip_of_frame(fr)
        parts = roce.roce_split(ip) if ip else None
        if not parts:
            other += 1
            continue
        iph, udph, pl = parts
        if len(pl) < 16:
            print("short RoCE packet (%d bytes of UDP payload)" % len(pl))
            bad += 1
            continue
        got, wire = roce.check_packet(iph, udph, pl)
        op, qp, psn, pad, _ = roce.bth_fields(pl)
        name = roce.OPCODES.get(op, ("0x%02x" % op, 0))[0]
        n += 1
        per_op[name] += 1
        if a.json:
            print(json.dumps({"opcode": name, "destqp": qp, "psn": psn, "len": len(pl),
                              "ip_id": int.from_bytes(iph[4:6], "big") if iph[0] >> 4 == 4 else None,
                              "ok": got == wire}))
        if got != wire:
            bad += 1
            if bad <= 10:
                print("MISMATCH: %s qp %d psn %d: computed %08x, trailer %08x"
                      % (name, qp, psn, got, wire))
    print("icrc_check: %d RoCEv2 packets, %d ICRC mismatches, %d other frames; %s"
          % (n, bad, other, ", ".join("%s %d" % kv for kv in sorted(per_op.items()))))
    if n < a.min:
        print("icrc_check: FAIL: want at least %d RoCEv2 packets" % a.min)
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
