#!/bin/bash
# The scheduler across the fabric: host A's port is the shared resource,
# two flows go from two endpoints on A (a1, a2) to two on B (b1, b2), and
# the shares are compared within the same run (a noisy 2-core machine):
#   1. tx_weight 1:3 split the two flows 25/75 (+-10% relative);
#   2. a cap (tx_max 2gbit) holds (never above it by more than 10%; how far
#      below is printed) while the other flow takes the rest;
#   3. VL arbitration: SL 0 on VL 0 (weight 64), SL 1 on VL 1 (weight 192),
#      equal rate settings: 25/75 (+-10% relative); the port counts each
#      SL's bytes on its VL, and as many as the endpoint sent;
#   4. a high-priority VL (vlarb_high 1:255, no high limit) against a
#      low-priority one: the SL-1 flow takes >= 90% of the two.
#
# How it measures. Each flow is 1 MiB WRITEs on 4 QPs with deep queues,
# and its rate is its endpoint's tx_bytes on A over a window in which both
# flows run (not the clients' own figures: they start and stop a few
# hundred ms apart, and a flow alone takes the whole port). Deep windows
# matter: with one QP of 64 KiB WRITEs (4 MiB in flight) the receiving
# ciovd, on the same two cores, falls behind now and then, both QPs wait
# for ACKs, and the flow with the smaller share keeps sending into its
# larger free window: the split is then the transport's (1:3 weights gave
# 0.27-0.36), not the port's.
set -u
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "jq missing"
case ${CIOV_SANITIZE:-none} in
none) ;;
*) skip "sanitizer build ($CIOV_SANITIZE): instrumented tenants and ciovds cannot keep two fabric flows backlogged, so the shares measure them, not the scheduler; the normal build runs this test" ;;
esac
fab_hosts 2
for i in 1 2; do
	fab_ctl A endpoint add a$i >/dev/null && fab_ctl B endpoint add b$i >/dev/null ||
		{ fail "endpoints"; exit 1; }
done

DUR=3		# seconds each flow runs
QPS=${CIOV_FABRIC_QOS_QPS:-4}	# QPs per flow
WIN_FROM=0.9	# the window: from this long after the clients start ...
WIN=1.4		# ... for this long (both flows run throughout)

tx() { fab_ctl A -j endpoint show "a$1" | jq '.[0].traffic.tx_bytes'; }
now_us() { echo $(($(date +%s%N) / 1000)); }

# flows SL1 SL2: a1 -> b1 on SL1 and a2 -> b2 on SL2 at once; sets R1 R2
# (bytes/s of each over the window) and SHARE (a1's part of the sum).
flows() {
	local sl=("" "$1" "$2") i pids=() t0 t1 u0 u1 x0 x1 y0 y1
	for i in 1 2; do
		ip netns exec "$NS_B" "$PERF" write bw --size 1M --qps $QPS --duration $DUR --endpoint b$i \
			--runtime-dir "$FAB_TMP/B" --port $((FAB_OOB + i)) >/dev/null 2>&1 &
		pids+=($!)
	done
	sleep 0.3
	for i in 1 2; do
		ip netns exec "$NS_A" "$PERF" write bw --size 1M --qps $QPS --duration $DUR --tx-depth 256 \
			--sl "${sl[i]}" --endpoint a$i --runtime-dir "$FAB_TMP/A" --port $((FAB_OOB + i)) \
			--json "$IP_B" >"$FAB_TMP/c$i.json" 2>&1 &
		pids+=($!)
	done
	sleep $WIN_FROM
	t0=$(now_us); x0=$(tx 1); u0=$(now_us); y0=$(tx 2)
	sleep $WIN
	t1=$(now_us); x1=$(tx 1); u1=$(now_us); y1=$(tx 2)
	for i in "${pids[@]}"; do
		wait "$i" || fail "a ciov-perf of flows $* exited $?: $(cat "$FAB_TMP"/c?.json | tr '\n' ' ')"
	done
	FAB_OOB=$((FAB_OOB + 2))
	R1=$(awk -v b=$((x1 - x0)) -v t=$((t1 - t0)) 'BEGIN { printf "%.0f", b / t * 1e6 }')
	R2=$(awk -v b=$((y1 - y0)) -v t=$((u1 - u0)) 'BEGIN { printf "%.0f", b / t * 1e6 }')
	SHARE=$(awk -v a="$R1" -v b="$R2" 'BEGIN { printf "%.3f", a / (a + b) }')
}
within() { # VALUE TARGET TOLERANCE: |value/target - 1| <= tolerance
	awk -v v="$1" -v t="$2" -v tol="$3" 'BEGIN { r = v / t; exit !(r >= 1 - tol && r <= 1 + tol) }'
}
mbs() { echo "$(($1 / 1000000)) MB/s"; }

# 1. Weights 1:3.
fab_ctl A rate set a1 tx_weight 1 && fab_ctl A rate set a2 tx_weight 3 || fail "rate set weights"
flows 0 0
if within "$SHARE" 0.25 0.10; then
	echo "ok: weights 1:3 -> a1 share $SHARE (a1 $(mbs $R1), a2 $(mbs $R2))"
else
	fail "weights 1:3 gave a1 a share of $SHARE (a1 $(mbs $R1), a2 $(mbs $R2))"
fi

# 2. A cap on a1; a2, uncapped, takes the rest.
fab_ctl A rate set a1 tx_max 2gbit && fab_ctl A rate set a2 tx_weight 1 || fail "rate set cap"
flows 0 0
t=$(fab_ctl A -j endpoint show a1 | jq '.[0].qos.throttled_ms')
# The cap must hold: a1 never above it (+10%). Below it is reported, not
# failed: in about 1 run in 10, in a window where the whole port ran slow
# (700 instead of 1200 MB/s, CPU contention), a1 reached only 0.85x of its
# cap; the loopback test (tests/qos/qos_share.sh) holds it to +-10%.
if awk -v r="$R1" 'BEGIN { exit !(r > 250000000 * 1.10) }'; then
	fail "cap 2gbit (250 MB/s) let a1 move $(mbs $R1) (a2 $(mbs $R2))"
elif ! awk -v a="$R1" -v b="$R2" 'BEGIN { exit !(b >= 1.5 * a) }'; then
	fail "a1 capped at $(mbs $R1), but a2 took only $(mbs $R2): the port idled"
elif ! [ "$t" -gt 0 ]; then
	fail "a1's cap held it, but throttled_ms is $t"
else
	echo "ok: cap 250 MB/s -> a1 $(mbs $R1) ($(awk -v r="$R1" 'BEGIN { printf "%.2f", r / 250000000 }')x), a2 $(mbs $R2); a1 throttled ${t} ms"
fi
fab_ctl A rate set a1 tx_max 0 || fail "uncap"

# 3. VL arbitration: equal rate settings, SL 0 -> VL 0 (64), SL 1 -> VL 1 (192).
port_j() { fab_ctl A -j port show p0 | jq -c "[.[0].sl_bytes[0,1], .[0].vl_bytes[0,1]]"; }
fab_ctl A port set p0 sl2vl 0:0,1:1 vlarb_low 0:64,1:192 || fail "port set vlarb_low"
c0=$(port_j) e10=$(tx 1) e20=$(tx 2)
flows 0 1
c1=$(port_j) e11=$(tx 1) e21=$(tx 2)
if within "$SHARE" 0.25 0.10; then
	echo "ok: VL weights 64:192 -> SL-0 share $SHARE (SL 0 $(mbs $R1), SL 1 $(mbs $R2))"
else
	fail "VL weights 64:192 gave the SL-0 flow a share of $SHARE (SL 0 $(mbs $R1), SL 1 $(mbs $R2))"
fi
read -r s0 s1 v0 v1 < <(jq -rn --argjson a "$c0" --argjson b "$c1" '[range(4) | $b[.] - $a[.]] | @tsv')
ea=$((e11 - e10)) eb=$((e21 - e20))
# What the port sent on each SL is what each endpoint sent (a
# retransmission counts twice: allow 1%).
if ! [ "$s0" = "$v0" ] || ! [ "$s1" = "$v1" ]; then
	fail "SL 0 and SL 1 map to VL 0 and VL 1 alone, but the port counted SL $s0 / $s1, VL $v0 / $v1 bytes"
elif ! [ "$ea" -gt 0 ] || ! [ "$eb" -gt 0 ] || ! within "$s0" "$ea" 0.01 || ! within "$s1" "$eb" 0.01; then
	fail "the port counted SL 0 $s0, SL 1 $s1 bytes; the endpoints sent a1 $ea, a2 $eb"
else
	echo "ok: port counted SL0=VL0 $s0 B (a1 sent $ea), SL1=VL1 $s1 B (a2 sent $eb)"
fi

# 4. A high-priority VL (no high limit) against a low-priority one.
fab_ctl A port set p0 vlarb_high 1:255 vlarb_low 0:255 high_limit 255 || fail "port set vlarb_high"
flows 0 1
hi=$(awk -v s="$SHARE" 'BEGIN { printf "%.3f", 1 - s }')
if awk -v h="$hi" 'BEGIN { exit !(h >= 0.9) }'; then
	echo "ok: high-priority VL -> SL-1 share $hi (SL 0 $(mbs $R1), SL 1 $(mbs $R2))"
else
	fail "the high-priority VL (vlarb_high 1:255, vlarb_low 0:255, high_limit 255) gave the SL-1 flow a share of $hi (SL 0 $(mbs $R1), SL 1 $(mbs $R2))"
fi

# Not asserted (matrix.sh checks a lossless link): 32 MiB in flight into a
# receiver on the same two cores can outlast ciov-perf's 67 ms ACK timeout.
echo "info: A's port: $(fab_counter A timeouts) ACK timeouts, $(fab_counter A retransmits) packets sent again"
for h in A B; do fab_stop $h; done
exit $FAB_FAILED
