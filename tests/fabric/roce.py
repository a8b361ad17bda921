#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""RoCEv2 for the fabric tests, written from IBA Annex A17 and doc/wire.md,
sharing no code with ciovd: pcap reading, the ICRC (zlib's CRC-32 over the
masked pseudo header), and frame building for injection. Standard library
only (struct, zlib, socket)."""
import socket
import struct
import zlib

ROCE_PORT = 4791
ETH_P_IP, ETH_P_IPV6, ETH_P_8021Q = 0x0800, 0x86DD, 0x8100

# The IBA opcodes ciov speaks (doc/wire.md) -> (name, extension header bytes)
OPCODES = {
    0x00: ("RC_SEND_FIRST", 0), 0x01: ("RC_SEND_MIDDLE", 0), 0x02: ("RC_SEND_LAST", 0),
    0x03: ("RC_SEND_LAST_IMM", 4), 0x04: ("RC_SEND_ONLY", 0), 0x05: ("RC_SEND_ONLY_IMM", 4),
    0x06: ("RC_WRITE_FIRST", 16), 0x07: ("RC_WRITE_MIDDLE", 0), 0x08: ("RC_WRITE_LAST", 0),
    0x09: ("RC_WRITE_LAST_IMM", 4), 0x0A: ("RC_WRITE_ONLY", 16), 0x0B: ("RC_WRITE_ONLY_IMM", 20),
    0x0C: ("RC_READ_REQUEST", 16), 0x0D: ("RC_READ_RESPONSE_FIRST", 4),
    0x0E: ("RC_READ_RESPONSE_MIDDLE", 0), 0x0F: ("RC_READ_RESPONSE_LAST", 4),
    0x10: ("RC_READ_RESPONSE_ONLY", 4), 0x11: ("RC_ACK", 4), 0x12: ("RC_ATOMIC_ACK", 12),
    0x13: ("RC_CMP_SWAP", 28), 0x14: ("RC_FETCH_ADD", 28), 0x16: ("RC_SEND_LAST_INV", 4),
    0x17: ("RC_SEND_ONLY_INV", 4), 0x64: ("UD_SEND_ONLY", 8), 0x65: ("UD_SEND_ONLY_IMM", 12),
}


def read_pcap(path):
    """Yields (timestamp, frame bytes) of a classic pcap file (either byte
    order, micro- or nanosecond) with Ethernet link type."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        raise ValueError("%s: not a classic pcap file (pcapng?)" % path)
    linktype = struct.unpack(end + "I", data[20:24])[0]
    if linktype != 1:
        raise ValueError("%s: link type %d, want Ethernet (1)" % (path, linktype))
    off = 24
    while off + 16 <= len(data):
        sec, frac, caplen, _ = struct.unpack(end + "IIII", data[off:off + 16])
        off += 16
        yield sec + frac * 1e-6, data[off:off + caplen]
        off += caplen


def ip_of_frame(frame):
    """The IP packet of an Ethernet frame (VLAN tags skipped), or None."""
    off, etype = 12, None
    while off + 2 <= len(frame):
        etype = struct.unpack("!H", frame[off:off + 2])[0]
        off += 2
        if etype != ETH_P_8021Q:
            break
        off += 2
    if etype not in (ETH_P_IP, ETH_P_IPV6):
        return None
    return frame[off:]


def roce_split(ip):
    """(ip header, udp header, udp payload) of a RoCEv2 packet, trimmed to
    the lengths the headers claim, or None if it is not UDP to 4791."""
    if len(ip) < 1:
        return None
    ver = ip[0] >> 4
    if ver == 4:
        if len(ip) < 20:
            return None
        ihl = (ip[0] & 15) * 4
        tot = struct.unpack("!H", ip[2:4])[0]
        if ip[9] != 17 or ihl < 20 or tot > len(ip):
            return None
        iph, rest = ip[:ihl], ip[ihl:tot]
    elif ver == 6:
        if len(ip) < 40 or ip[6] != 17:
            return None
        plen = struct.unpack("!H", ip[4:6])[0]
        iph, rest = ip[:40], ip[40:40 + plen]
    else:
        return None
    if len(rest) < 8:
        return None
    sport, dport, ulen = struct.unpack("!HHH", rest[:6])
    if dport != ROCE_PORT or ulen < 8 or ulen > len(rest):
        return None
    return iph, rest[:8], rest[8:ulen]


def icrc(iph, udph, payload_wo_icrc):
    """The ICRC of a RoCEv2 packet (IBA A17.8.1): CRC-32 over 8 bytes of
    ones (the LRH), the IP header with its variant fields set to ones, the
    UDP header with its checksum set to ones, the BTH with resv8a set to
    ones, then everything else up to the end of the pad."""
    ip = bytearray(iph)
    if ip[0] >> 4 == 4:
        ip[1] = 0xFF            # TOS (DSCP, ECN)
        ip[8] = 0xFF            # TTL
        ip[10:12] = b"\xff\xff"  # header checksum
    else:
        ip[0] |= 0x0F           # traffic class (high nibble) ...
        ip[1:4] = b"\xff\xff\xff"  # ... traffic class (low), flow label
        ip[7] = 0xFF            # hop limit
    udp = bytearray(udph)
    udp[6:8] = b"\xff\xff"
    bth = bytearray(payload_wo_icrc[:12])
    if len(bth) >= 5:
        bth[4] = 0xFF
    data = b"\xff" * 8 + bytes(ip) + bytes(udp) + bytes(bth) + payload_wo_icrc[12:]
    return zlib.crc32(data) & 0xFFFFFFFF


def check_packet(iph, udph, payload):
    """(computed, on the wire) ICRC of one packet; the trailer is least
    significant byte first."""
    return icrc(iph, udph, payload[:-4]), struct.unpack("<I", payload[-4:])[0]


def self_test():
    """The rule against a CNP captured from a ConnectX-4 Lx (doc/wire.md)."""
    cnp = bytes([
        0x45, 0xc2, 0x00, 0x3c, 0x71, 0x8c, 0x40, 0x00, 0x40, 0x11, 0x91, 0x61,
        0x0a, 0x00, 0x11, 0x01, 0x0a, 0x00, 0x12, 0x01,
        0x00, 0x00, 0x12, 0xb7, 0x00, 0x28, 0x00, 0x00,
        0x81, 0x00, 0xff, 0xff, 0x40, 0x00, 0x01, 0x18, 0x00, 0x00, 0x00, 0x00]
        + [0] * 16 + [0x82, 0xfd, 0x00, 0x2a])
    got, want = check_packet(cnp[:20], cnp[20:28], cnp[28:])
    assert got == want == 0x2A00FD82, "ICRC self-test: %#x vs %#x" % (got, want)


def bth_fields(payload):
    """(opcode, destqp, psn, padcnt, ackreq) of the BTH."""
    op, flags, _pkey, _r, q0, q1, q2, a, p0, p1, p2 = struct.unpack("!BBHBBBBBBBB", payload[:12])
    return op, (q0 << 16) | (q1 << 8) | q2, (p0 << 16) | (p1 << 8) | p2, (flags >> 4) & 3, a >> 7


# ---------------------------------------------------------------- building

def ip4_csum(h):
    s = sum(struct.unpack("!%dH" % (len(h) // 2), h))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def bth(opcode, destqp, psn, padcnt=0, ackreq=1, se=0, pkey=0xFFFF, tver=0):
    return struct.pack("!BBHI I", opcode, (se << 7) | (padcnt << 4) | tver, pkey,
                       destqp & 0xFFFFFF, ((ackreq & 1) << 31) | (psn & 0xFFFFFF))


def frame(src_mac, dst_mac, src_ip, dst_ip, ib_payload, ip_id=0, sport=49152,
          fix_icrc=True, icrc_xor=0, ttl=64):
    """An Ethernet frame carrying IB_PAYLOAD (BTH onwards, without ICRC) to
    UDP 4791, with its ICRC (XOR ICRC_XOR: non-zero makes it wrong), or
    with 4 garbage bytes if not FIX_ICRC."""
    v6 = ":" in dst_ip
    ulen = 8 + len(ib_payload) + 4
    udph = struct.pack("!HHHH", sport, ROCE_PORT, ulen, 0)
    if v6:
        iph = struct.pack("!IHBB16s16s", 6 << 28, ulen, 17, ttl,
                          socket.inet_pton(socket.AF_INET6, src_ip),
                          socket.inet_pton(socket.AF_INET6, dst_ip))
        etype = ETH_P_IPV6
    else:
        iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, ip_id & 0xFFFF, 0x4000, ttl, 17, 0,
                          socket.inet_aton(src_ip), socket.inet_aton(dst_ip))
        iph = iph[:10] + struct.pack("!H", ip4_csum(iph)) + iph[12:]
        etype = ETH_P_IP
    if fix_icrc:
        trailer = struct.pack("<I", icrc(iph, udph, ib_payload) ^ icrc_xor)
    else:
        trailer = b"\xde\xad\xbe\xef"
    return dst_mac + src_mac + struct.pack("!H", etype) + iph + udph + ib_payload + trailer


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def raw_socket(dev):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((dev, 0))
    return s
