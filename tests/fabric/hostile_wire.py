#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""hostile_wire.py: hostile RoCEv2 frames into a veth (AF_PACKET, root).

  hostile_wire.py --dev DEV --src-mac M --dst-mac M --src-ip IP --dst-ip IP
                  [--qpn Q] [--count N] [--pps R] [--seed S] MODE

MODE
  badicrc    well-formed RC SEND ONLY packets whose ICRC is wrong (one bit)
  unknownqp  well-formed packets, right ICRC, to QPNs nobody has
  fuzz       a mix: random bytes; unknown opcodes; headers cut short; UDP and
             IP lengths that lie; wrong pad counts; FIRST/MIDDLE packets not a
             PMTU long; PSNs far outside any window; wrong R_Keys and huge
             DMA lengths; unknown QPNs; bad ICRCs; random bit flips of valid
             packets. The ICRC is recomputed after the mutation except in the
             bad-ICRC class, so the transport's own checks are reached.

--qpn is the QP under attack (a live connection's QPN): packets to it use
PSNs at least 2^22 from any PSN the connection uses (it starts at 0), so
that none of them is a packet the protocol would have to accept; with
--psn-base the caller says where the live PSNs are instead.

Prints one JSON line: how many frames of each class were sent."""
import argparse
import json
import random
import struct
import sys
import time

import roce

PMTU = 1024
KNOWN = set(roce.OPCODES)


def far_psn(rng, base):
    """A PSN at least 2^22 away from BASE in either direction."""
    return (base + (1 << 22) + rng.randrange(1 << 23)) & 0xFFFFFF


def payload_for(op, rng, rkey=None, length=None):
    """Extension headers + payload for opcode OP (no BTH)."""
    ext = b""
    if op in (0x06, 0x0A, 0x0B, 0x0C):  # RETH
        ext += struct.pack("!QII", rng.getrandbits(64), rkey if rkey is not None else rng.getrandbits(32),
                           length if length is not None else rng.randrange(0, 1 << 20))
    if op in (0x13, 0x14):  # AtomicETH
        ext += struct.pack("!QIQQ", rng.getrandbits(61) << 3, rng.getrandbits(32),
                           rng.getrandbits(64), rng.getrandbits(64))
    if op in (0x0D, 0x0F, 0x10, 0x11, 0x12):  # AETH
        ext += struct.pack("!I", rng.getrandbits(32))
    if op == 0x12:
        ext += struct.pack("!Q", rng.getrandbits(64))
    if op in (0x64, 0x65):  # DETH
        ext += struct.pack("!II", rng.getrandbits(32), rng.getrandbits(24))
    if op in (0x03, 0x05, 0x09, 0x0B, 0x65):  # ImmDt
        ext += struct.pack("!I", rng.getrandbits(32))
    if op in (0x16, 0x17):  # IETH
        ext += struct.pack("!I", rng.getrandbits(32))
    if op in (0x00, 0x01, 0x06, 0x07, 0x0D, 0x0E):
        body = bytes(rng.getrandbits(8) for _ in range(PMTU))
    elif op in (0x0C, 0x11, 0x12, 0x13, 0x14):
        body = b""
    else:
        body = bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 65) * 4))
    return ext + body


class Gen:
    def __init__(self, a):
        self.a = a
        self.rng = random.Random(a.seed)
        self.smac, self.dmac = roce.mac(a.src_mac), roce.mac(a.dst_mac)
        self.ipid = self.rng.randrange(65536)
        self.psn_base = a.psn_base

    def qpn(self):
        r = self.rng
        if self.a.qpn is not None and r.random() < 0.6:
            return self.a.qpn
        return r.randrange(2, 0xFFFFFF)

    def frame(self, ib, fix=True, xor=0):
        self.ipid = (self.ipid + 1) & 0xFFFF
        return roce.frame(self.smac, self.dmac, self.a.src_ip, self.a.dst_ip, ib, ip_id=self.ipid,
                          sport=49152 + self.rng.randrange(16384), fix_icrc=fix, icrc_xor=xor)

    def valid_ib(self, op=None, qpn=None, rkey=None, length=None, padcnt=0):
        r = self.rng
        op = op if op is not None else r.choice(sorted(KNOWN))
        q = qpn if qpn is not None else self.qpn()
        return roce.bth(op, q, far_psn(r, self.psn_base), padcnt=padcnt) + payload_for(op, r, rkey, length)

    # -- the classes; each returns one frame
    def c_random_bytes(self):
        r = self.rng
        return self.frame(bytes(r.getrandbits(8) for _ in range(r.randrange(0, 200))))

    def c_bad_opcode(self):
        r = self.rng
        op = r.choice([x for x in range(256) if x not in KNOWN])
        return self.frame(roce.bth(op, self.qpn(), far_psn(r, self.psn_base)) +
                          bytes(r.getrandbits(8) for _ in range(r.randrange(0, 64) * 4)))

    def c_short(self):
        r = self.rng
        ib = self.valid_ib()
        return self.frame(ib[:r.randrange(0, min(len(ib), 40))])

    def c_lying_length(self):
        """UDP or IP length that disagrees with the frame (ICRC over what is sent)."""
        r = self.rng
        fr = bytearray(self.frame(self.valid_ib()))
        if r.random() < 0.5:  # UDP length
            struct.pack_into("!H", fr, 14 + 20 + 4, r.choice([0, 7, 8, 12, 0xFFFF, len(fr) + r.randrange(1, 500)]))
        else:  # IP total length (checksum fixed so the IP check passes)
            struct.pack_into("!H", fr, 14 + 2, r.choice([20, 27, 28, 40, 0xFFFF, len(fr) + 100]))
            struct.pack_into("!H", fr, 14 + 10, 0)
            struct.pack_into("!H", fr, 14 + 10, roce.ip4_csum(bytes(fr[14:34])))
        return bytes(fr)

    def c_bad_pad(self):
        r = self.rng
        op = r.choice([0x02, 0x04, 0x08, 0x0A, 0x64])
        ib = bytearray(self.valid_ib(op=op, padcnt=r.randrange(1, 4)))
        if r.random() < 0.5:  # pad larger than the payload
            ib = ib[:12 + (16 if op == 0x0A else 8 if op == 0x64 else 0)]
        return self.frame(bytes(ib))

    def c_wrong_size(self):
        """FIRST/MIDDLE not exactly one PMTU, ONLY/LAST longer than it."""
        r = self.rng
        op = r.choice([0x00, 0x01, 0x06, 0x07, 0x04, 0x02, 0x08, 0x0A])
        ib = self.valid_ib(op=op)
        hdr = 12 + (16 if op in (0x06, 0x0A) else 0)
        n = r.choice([PMTU - 4, PMTU + 4, PMTU + 256, 4])  # the link carries 1500
        return self.frame(ib[:hdr] + bytes(n))

    def c_far_psn(self):
        return self.frame(self.valid_ib(qpn=self.a.qpn if self.a.qpn is not None else None))

    def c_wrong_rkey(self):
        r = self.rng
        op = r.choice([0x06, 0x0A, 0x0B, 0x0C])
        return self.frame(self.valid_ib(op=op, rkey=r.getrandbits(32),
                                        length=r.choice([1, PMTU, 1 << 31, 0xFFFFFFFF])))

    def c_unknown_qp(self):
        r = self.rng
        q = r.randrange(2, 0xFFFFFF)
        while self.a.qpn is not None and q == self.a.qpn:
            q = r.randrange(2, 0xFFFFFF)
        return self.frame(self.valid_ib(qpn=q))

    def c_bad_icrc(self):
        return self.frame(self.valid_ib(), xor=1 << self.rng.randrange(32))

    def c_bit_flip(self):
        """A valid packet with 1-4 random bits of its BTH onwards flipped, ICRC fixed."""
        r = self.rng
        ib = bytearray(self.valid_ib())
        for _ in range(r.randrange(1, 5)):
            i = r.randrange(len(ib))
            ib[i] ^= 1 << r.randrange(8)
        ib[9:12] = far_psn(r, self.psn_base).to_bytes(3, "big")  # never a live PSN
        return self.frame(bytes(ib))


FUZZ = ["random_bytes", "bad_opcode", "short", "lying_length", "bad_pad", "wrong_size",
        "far_psn", "wrong_rkey", "unknown_qp", "bad_icrc", "bit_flip"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dev", required=True)
    ap.add_argument("--src-mac", required=True)
    ap.add_argument("--dst-mac", required=True)
    ap.add_argument("--src-ip", required=True)
    ap.add_argument("--dst-ip", required=True)
    ap.add_argument("--qpn", type=int)
    ap.add_argument("--psn-base", type=int, default=0)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--pps", type=float, default=0, help="frames per second (0: as fast as possible)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", help="fuzz: these classes only (comma-separated)")
    ap.add_argument("mode", choices=["badicrc", "unknownqp", "fuzz"])
    a = ap.parse_args()
    if ":" in a.dst_ip:
        print("hostile_wire.py: IPv4 only", file=sys.stderr)
        return 1
    g = Gen(a)
    sock = roce.raw_socket(a.dev)
    sent = {}
    t0 = time.monotonic()
    for i in range(a.count):
        if a.mode == "badicrc":
            cls = "bad_icrc"
            fr = g.frame(g.valid_ib(op=0x04), xor=1)
        elif a.mode == "unknownqp":
            cls = "unknown_qp"
            fr = g.c_unknown_qp()
        else:
            classes = a.only.split(",") if a.only else FUZZ
            cls = classes[i % len(classes)]
            fr = getattr(g, "c_" + cls)()
        if len(fr) < 60:
            fr += bytes(60 - len(fr))  # Ethernet minimum (the IP length says where it ends)
        fr = fr[:1514]  # what the link carries (the lengths inside may now lie)
        sock.send(fr)
        sent[cls] = sent.get(cls, 0) + 1
        if a.pps:
            ahead = t0 + (i + 1) / a.pps - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    print(json.dumps({"sent": a.count, "seconds": round(time.monotonic() - t0, 2), "classes": sent}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
