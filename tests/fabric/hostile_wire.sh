#!/bin/bash
# A hostile wire: while xfer moves numbered, verified messages from A to B,
# hostile_wire.py (AF_PACKET) sends thousands of random and mutated RoCEv2
# frames at both ports, from the peer's address: random bytes, unknown
# opcodes, cut headers, lying UDP/IP lengths, wrong pad counts, FIRST/MIDDLE
# of the wrong size, PSNs far outside the window, wrong R_Keys and DMA
# lengths, unknown QPNs, bad ICRCs, bit flips (ICRC recomputed after the
# mutation, except for the bad-ICRC class), half of them aimed at the live
# connection's QPNs. Then:
#   - the transfer completed, every message once, in order, verified, and
#     no completion appeared that should not have (xfer checks all CQs);
#   - both ciovds are alive and answer `ciovctl port show`, and a new
#     transfer works (nothing wedged);
#   - both ports' icrc_errors, rcv_errors and rcv_discards grew.
# Not covered: a frame with a live PSN and a valid R_Key is a legitimate
# request on an unauthenticated wire (RoCE has none); the generator keeps
# its PSNs at least 2^22 from the live ones.
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
XFER=${CIOV_XFER:-$B/tests/fabric/fabric_xfer}
[ -x "$XFER" ] || skip "xfer ($XFER) is not built"
command -v python3 >/dev/null || skip "python3 is not installed"
N=${CIOV_HOSTILE_COUNT:-6000} # frames per direction
fab_hosts 2
mac_a=$(fab_ctl A port show p0 -j | jq -r '.[0].mac')
mac_b=$(fab_ctl B port show p0 -j | jq -r '.[0].mac')
counters() { # counters H: "icrc rcv_errors discards"
	echo "$(fab_counter "$1" icrc_errors) $(fab_counter "$1" rcv_errors) $(fab_counter "$1" rcv_discards)"
}
read -r ia0 ea0 da0 < <(counters A)
read -r ib0 eb0 db0 < <(counters B)

# The legitimate transfer, long enough to outlast the storm (~3 s).
env "$XFER_ENV" "$XFER" --count 80000 --sizes 1,64,1024,3077,16384 --verbose "$FAB_TMP/A" "$FAB_TMP/B" \
	>"$FAB_TMP/xfer" 2>&1 &
xpid=$!
for _ in $(seq 200); do grep -q '^peer 1: QP' "$FAB_TMP/xfer" && break; sleep 0.02; done
read -r qpa qpb < <(sed -n 's/^peer 1: QP \([0-9]*\) -> QP \([0-9]*\),.*/\1 \2/p' "$FAB_TMP/xfer")
[ -n "$qpb" ] || { kill $xpid; cat "$FAB_TMP/xfer"; echo "FAIL: xfer did not start"; exit 1; }
echo "live connection: A's QP $qpa -> B's QP $qpb"
# At B, from "A" (requests to the responder); at A, from "B" (fake ACKs,
# NAKs, READ responses to the requester).
ip netns exec "$NS_A" python3 "$HERE/hostile_wire.py" --dev veth0 --src-mac "$mac_a" \
	--dst-mac "$mac_b" --src-ip "$IP_A" --dst-ip "$IP_B" --qpn "$qpb" --count "$N" --pps 4000 \
	--seed 11 fuzz >"$FAB_TMP/gen_b" 2>&1 &
g1=$!
ip netns exec "$NS_B" python3 "$HERE/hostile_wire.py" --dev veth0 --src-mac "$mac_b" \
	--dst-mac "$mac_a" --src-ip "$IP_B" --dst-ip "$IP_A" --qpn "$qpa" --count "$N" --pps 4000 \
	--seed 22 fuzz >"$FAB_TMP/gen_a" 2>&1 &
g2=$!
wait $g1 || fail "generator towards B: $(cat "$FAB_TMP/gen_b")"
wait $g2 || fail "generator towards A: $(cat "$FAB_TMP/gen_a")"
echo "towards B: $(cat "$FAB_TMP/gen_b")"
echo "towards A: $(cat "$FAB_TMP/gen_a")"
kill -0 $xpid 2>/dev/null && echo "the transfer was still running when the storm ended" ||
	echo "note: the transfer ended before the storm did"
if wait $xpid; then
	echo "ok: $(tail -1 "$FAB_TMP/xfer")"
else
	fail "the transfer under attack: $(tail -5 "$FAB_TMP/xfer")"
fi

for h in A B; do
	kill -0 "$(cat "$FAB_TMP/$h.pid")" 2>/dev/null || fail "ciovd on $h died"
	timeout 5 bash -c "CIOV_RUNTIME_DIR=$FAB_TMP/$h $CTL port show p0 >/dev/null" ||
		fail "ciovd on $h does not answer port show"
done
timeout 60 env "$XFER_ENV" "$XFER" --count 300 "$FAB_TMP/A" "$FAB_TMP/B" >"$FAB_TMP/xfer2" 2>&1 ||
	fail "a transfer after the storm: $(tail -3 "$FAB_TMP/xfer2")"
read -r ia1 ea1 da1 < <(counters A)
read -r ib1 eb1 db1 < <(counters B)
echo "A: icrc_errors $ia0 -> $ia1, rcv_errors $ea0 -> $ea1, rcv_discards $da0 -> $da1"
echo "B: icrc_errors $ib0 -> $ib1, rcv_errors $eb0 -> $eb1, rcv_discards $db0 -> $db1"
for h in a b; do
	eval "i0=\$i${h}0 i1=\$i${h}1 e0=\$e${h}0 e1=\$e${h}1 d0=\$d${h}0 d1=\$d${h}1"
	[ "$i1" -gt "$i0" ] || fail "host ${h^^}: icrc_errors did not grow"
	[ "$e1" -gt "$e0" ] || fail "host ${h^^}: rcv_errors did not grow"
	[ "$d1" -gt "$d0" ] || fail "host ${h^^}: rcv_discards did not grow"
	[ $((i1 - i0 + e1 - e0 + d1 - d0)) -le "$N" ] ||
		fail "host ${h^^}: more drops counted than frames sent"
done
for h in A B; do fab_stop $h; done
exit $FAB_FAILED
