#!/bin/bash
# The IPv4 ID under the ICRC (complements wire_icrc.sh): the ICRC covers
# the IPv4 ID, and a port sends a GSO frame whose segments the kernel
# numbers from the ID written. With UDP segmentation offload off on both
# veths, tcpdump on A sees every wire packet of ciov-perf WRITE, READ, SEND
# (64 KiB) and atomic traffic; icrc_check.py (roce.py, no ciovd code) must
# find every ICRC right, and the IDs must really differ packet to packet:
# adjacent packets of one direction never repeat an ID and most follow
# ID+1 (a burst), so the matching ICRCs were computed over distinct IDs. No
# packet may exceed the veth MTU (an unsegmented super-frame proves nothing).
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
fab_hosts 2
fab_wire_ready
pcap=$FAB_TMP/wire.pcap
# -Z root: tcpdump drops to its own user, which may not write in FAB_TMP.
ip netns exec "$NS_A" tcpdump -Z root -i "$DEV_A" -U -s 0 -B 16384 -w "$pcap" udp port 4791 \
	2>"$FAB_TMP/tcpdump.log" &
tpid=$!
for _ in $(seq 100); do grep -q listening "$FAB_TMP/tcpdump.log" && break; sleep 0.05; done
for t in "write bw --size 65536 --iters 30" "read bw --size 65536 --iters 30" \
	"send bw --size 65536 --iters 30" "atomic bw --iters 100"; do
	# shellcheck disable=SC2086 # the words are the arguments
	fab_perf B A "$FAB_TMP/out" $t --verify || fail "ciov-perf $t: $(tail -3 "$FAB_TMP/out")"
done
sleep 1.5 # tcpdump hands over a ring block when full or after 1 s
kill -INT $tpid
wait $tpid
grep -E 'captured|dropped by kernel' "$FAB_TMP/tcpdump.log" | tr '\n' ' '
echo
python3 "$HERE/icrc_check.py" --min 1000 --json "$pcap" >"$FAB_TMP/icrc" 2>&1 ||
	fail "ICRC check: $(grep -v '^{' "$FAB_TMP/icrc" | tail -12)"
grep -v '^{' "$FAB_TMP/icrc" | tail -1
python3 - "$pcap" "$FAB_TMP/icrc" <<'PY' || FAB_FAILED=1
import json, struct, sys
# Direction from the pcap (icrc_check.py's JSON has no addresses); its
# lines come in capture order, one per RoCE packet.
lines = [json.loads(l) for l in open(sys.argv[2]) if l.startswith("{")]
d = open(sys.argv[1], "rb").read()
off, dirs, big = 24, [], 0
while off + 16 <= len(d):
    n = struct.unpack("<I", d[off + 8:off + 12])[0]
    ip = d[off + 16 + 14:off + 16 + n]
    if len(ip) >= 28 and ip[0] == 0x45 and ip[9] == 17 and struct.unpack("!H", ip[22:24])[0] == 4791:
        dirs.append(ip[12:20])
        big += struct.unpack("!H", ip[2:4])[0] > 1500
    off += 16 + n
assert len(dirs) == len(lines), (len(dirs), len(lines))
ops = {l["opcode"] for l in lines}
missing = {"RC_WRITE_MIDDLE", "RC_READ_RESPONSE_MIDDLE", "RC_SEND_MIDDLE", "RC_FETCH_ADD",
           "RC_ATOMIC_ACK"} - ops
last, same, plus1, other = {}, 0, 0, 0
for dr, l in zip(dirs, lines):
    i = l["ip_id"]
    if dr in last:
        if i == last[dr]:
            same += 1
        elif i == (last[dr] + 1) & 0xFFFF:
            plus1 += 1
        else:
            other += 1
    last[dr] = i
ok = sum(l["ok"] for l in lines)
print(f"IPv4 IDs: {len(lines)} packets ({ok} with the right ICRC); adjacent in one direction: "
      f"{plus1} ID+1, {other} another ID, {same} the same ID; {big} longer than the MTU")
rc = 0
if same:
    print(f"FAIL: {same} packets repeat their predecessor's IPv4 ID"); rc = 1
if plus1 < len(lines) // 2:
    print("FAIL: too few consecutive IDs: the kernel did not number GSO segments"); rc = 1
if missing:
    print(f"FAIL: no {' '.join(sorted(missing))} in the capture"); rc = 1
if big:
    print("FAIL: unsegmented GSO frames in the capture (offload still on?)"); rc = 1
sys.exit(rc)
PY
for h in A B; do fab_stop $h; done
exit $FAB_FAILED
