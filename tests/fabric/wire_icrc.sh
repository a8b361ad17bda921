#!/bin/bash
# The real wire, judged by tools that share no code with ciovd:
#  1. tcpdump on host A's veth during transfers both ways (xfer: SENDs,
#     WRITEs with immediate, WRITEs; ciov-perf: multi-packet READ responses
#     from B). `ethtool -K veth0 tx-udp-segmentation off` on both veths makes
#     the kernel cut the port's GSO frames before the tap, so each packet is
#     seen as it is on the wire (with it on, tcpdump sees 64 KiB super-frames;
#     generic-segmentation-offload and TSO do not matter). icrc_check.py
#     recomputes every ICRC (zlib over the masked pseudo header, IBA A17);
#     all must match, and a copy with one payload byte flipped must not.
#  2. `ciovctl port capture p0 FILE count N duration S` during a WRITE and a
#     SEND of 3077 bytes (path MTU 1024): tshark decodes RDMA WRITE
#     First/Middle/Middle/Last then SEND First/Middle/Middle/Last to the QPN
#     the tenant connected to, PSNs consecutive from 0, and the RETH of the
#     First packet names the peer's VA, R_Key and 3077 bytes.
#  3. Frames with a wrong ICRC injected from B's side (AF_PACKET) are
#     dropped and counted in A's icrc_errors; with a right ICRC to an
#     unknown QPN they are counted in rcv_discards instead.
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
XFER=${CIOV_XFER:-$B/tests/fabric/fabric_xfer}
[ -x "$XFER" ] || skip "xfer ($XFER) is not built"
fab_hosts 2

# ---- 1. tcpdump + independent ICRC
fab_wire_ready
pcap=$FAB_TMP/wire.pcap
ip netns exec "$NS_A" tcpdump -i veth0 -U -s 0 -w "$pcap" udp port 4791 2>"$FAB_TMP/tcpdump.log" &
tpid=$!
for _ in $(seq 100); do grep -q listening "$FAB_TMP/tcpdump.log" && break; sleep 0.05; done
env "$XFER_ENV" "$XFER" --count 90 --sizes 1,100,1023,1024,1025,3077,65536 "$FAB_TMP/A" "$FAB_TMP/B" >"$FAB_TMP/x1" 2>&1 ||
	fail "xfer: $(cat "$FAB_TMP/x1")"
fab_perf B A "$FAB_TMP/rd" read bw --size 8192 --iters 20 --verify ||
	fail "ciov-perf read: $(tail -3 "$FAB_TMP/rd")"
sleep 0.3
kill -INT $tpid
wait $tpid
python3 "$HERE/icrc_check.py" --min 200 "$pcap" >"$FAB_TMP/icrc" 2>&1 || fail "ICRC check: $(tail -12 "$FAB_TMP/icrc")"
tail -1 "$FAB_TMP/icrc"
grep -q RC_READ_RESPONSE_MIDDLE "$FAB_TMP/icrc" || fail "no READ responses in the capture"
# The checker can fail: one flipped payload byte per packet must break every ICRC.
python3 - "$pcap" "$FAB_TMP/flipped.pcap" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
off = 24
while off + 16 <= len(d):
    caplen = struct.unpack("<I", d[off + 8:off + 12])[0]
    d[off + 16 + caplen - 5] ^= 0x40   # the last byte before the ICRC
    off += 16 + caplen
open(sys.argv[2], "wb").write(d)
PY
if python3 "$HERE/icrc_check.py" "$FAB_TMP/flipped.pcap" | grep -q ' 0 ICRC mismatches'; then
	fail "icrc_check.py found no mismatch in a corrupted capture"
fi

# ---- 2. port capture + tshark
if command -v tshark >/dev/null; then
	cap=$FAB_TMP/port.pcap
	fab_ctl A port capture p0 "$cap" count 200 duration 2 >"$FAB_TMP/cap.out" 2>&1 &
	cpid=$!
	for _ in $(seq 100); do
		[ "$(fab_ctl A port show p0 -j | jq -r '.[0].capture')" != null ] && break
		sleep 0.02
	done
	env "$XFER_ENV" "$XFER" --count 2 --sizes 3077 --ops write,send --verbose "$FAB_TMP/A" "$FAB_TMP/B" >"$FAB_TMP/x2" 2>&1 ||
		fail "xfer: $(cat "$FAB_TMP/x2")"
	wait $cpid || fail "port capture: $(cat "$FAB_TMP/cap.out")"
	# peer 1: QP <a> -> QP <b>, write slots at va 0x<va> rkey 0x<rkey>
	read -r qpa qpb va rkey < <(sed -n 's/^peer 1: QP \([0-9]*\) -> QP \([0-9]*\), write slots at va \(0x[0-9a-f]*\) rkey \(0x[0-9a-f]*\)$/\1 \2 \3 \4/p' "$FAB_TMP/x2")
	tshark -r "$cap" -d udp.port==4791,infiniband -Y "ip.src==$IP_A && infiniband.bth.destqp==$qpb" \
		-T fields -E separator=' ' -e infiniband.bth.opcode -e infiniband.bth.destqp \
		-e infiniband.bth.psn -e infiniband.reth.va -e infiniband.reth.r_key \
		-e infiniband.reth.dmalen >"$FAB_TMP/tshark" 2>"$FAB_TMP/tshark.err" ||
		fail "tshark: $(cat "$FAB_TMP/tshark.err")"
	echo "tshark (A's QP $qpa -> B's QP $qpb):"
	sed 's/^/  /' "$FAB_TMP/tshark"
	ops=$(awk '{printf "%s ", $1}' "$FAB_TMP/tshark")
	[ "$ops" = "6 7 7 8 0 1 1 2 " ] ||
		fail "opcodes $ops, want WRITE First Middle Middle Last, SEND First Middle Middle Last (6 7 7 8 0 1 1 2)"
	psns=$(awk '{printf "%s ", $3}' "$FAB_TMP/tshark")
	[ "$psns" = "0 1 2 3 4 5 6 7 " ] || fail "PSNs $psns, want 0..7"
	read -r _ _ _ tva trkey tlen < <(head -1 "$FAB_TMP/tshark")
	[ $((tva)) = $((va)) ] && [ $((trkey)) = $((rkey)) ] && [ "$tlen" = 3077 ] ||
		fail "RETH va $tva rkey $trkey len $tlen, want $va $rkey 3077"
	python3 "$HERE/icrc_check.py" "$cap" | tail -1
	python3 "$HERE/icrc_check.py" --min 9 "$cap" >/dev/null || fail "ICRC of ciovd's own capture"
else
	echo "tshark is not installed (make deps): the capture decode is not checked"
fi

# ---- 3. wrong ICRC injected from B's side
mac_a=$(fab_ctl A port show p0 -j | jq -r '.[0].mac')
mac_b=$(fab_ctl B port show p0 -j | jq -r '.[0].mac')
inject() { # inject MODE COUNT
	ip netns exec "$NS_B" python3 "$HERE/hostile_wire.py" --dev veth0 --src-mac "$mac_b" \
		--dst-mac "$mac_a" --src-ip "$IP_B" --dst-ip "$IP_A" --count "$2" --pps 2000 "$1" >/dev/null
}
i0=$(fab_counter A icrc_errors)
d0=$(fab_counter A rcv_discards)
inject badicrc 20 || fail "cannot inject"
sleep 0.3
i1=$(fab_counter A icrc_errors)
d1=$(fab_counter A rcv_discards)
echo "20 frames with a wrong ICRC: icrc_errors $i0 -> $i1, rcv_discards $d0 -> $d1"
[ $((i1 - i0)) = 20 ] || fail "icrc_errors grew by $((i1 - i0)), want 20"
[ "$d1" = "$d0" ] || fail "a frame with a wrong ICRC reached the transport (rcv_discards moved)"
inject unknownqp 20 || fail "cannot inject"
sleep 0.3
i2=$(fab_counter A icrc_errors)
d2=$(fab_counter A rcv_discards)
echo "20 frames to unknown QPNs: icrc_errors $i1 -> $i2, rcv_discards $d1 -> $d2"
[ "$i2" = "$i1" ] || fail "a right ICRC counted as wrong"
[ $((d2 - d1)) = 20 ] || fail "rcv_discards grew by $((d2 - d1)), want 20"
# and the link still works
env "$XFER_ENV" "$XFER" --count 30 "$FAB_TMP/A" "$FAB_TMP/B" >"$FAB_TMP/x3" 2>&1 || fail "xfer after: $(cat "$FAB_TMP/x3")"
for h in A B; do fab_stop $h; done
exit $FAB_FAILED
