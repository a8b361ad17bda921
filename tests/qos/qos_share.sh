#!/bin/bash
# The rate scheduler as tenants see it, with flows running in the same run
# (ratios hold on a noisy 2-core machine): weights 1:3 split the adapter
# 25/75 (+-10% relative); a cap holds (+-10%) while the adapter has spare
# capacity; a guarantee holds against greedy neighbours; a group cap holds
# for the sum of its children; weights are hierarchical (a group shares
# what it gets among its children).
set -u
B=${1:?usage: qos_share.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"
qos_skip_checks "instrumented tenants cannot keep four flows backlogged, so the shares measure them, not the scheduler"
qos_start
for i in 1 2 3 4; do
	"$CTL" endpoint add s$i >/dev/null && "$CTL" endpoint add c$i >/dev/null || fail "endpoints"
done
port=$((23000 + RANDOM % 10000))

# flows N: N clients c1..cN write to their servers at once for DUR s (2); prints
# each client's bytes/s on one line. Deep queues keep every flow
# backlogged, so the split is the scheduler's, not the tenants' CPU luck.
flows() {
	local n=$1 i
	for i in $(seq "$n"); do
		CIOV_ENDPOINT=s$i "$PERF" write bw --size 65536 --duration "${DUR:-2}" --port $((port + i)) \
			>/dev/null 2>&1 &
	done
	sleep 0.3
	for i in $(seq "$n"); do
		CIOV_ENDPOINT=c$i "$PERF" write bw --size 65536 --duration "${DUR:-2}" --tx-depth 4096 \
			--port $((port + i)) --json 127.0.0.1 >"$rt/c$i.json" 2>/dev/null &
	done
	wait $(jobs -p | tail -n $((2 * n))) 2>/dev/null
	port=$((port + 10))
	for i in $(seq "$n"); do jq -r .bw_bytes_per_sec "$rt/c$i.json"; done | tr '\n' ' '
}
within() { # VALUE TARGET TOLERANCE: |value/target - 1| <= tolerance
	awk -v v="$1" -v t="$2" -v tol="$3" 'BEGIN { r = v / t; exit !(r >= 1 - tol && r <= 1 + tol) }'
}

# 1. Weights 1:3.
"$CTL" rate set c1 tx_weight 1 && "$CTL" rate set c2 tx_weight 3 || fail "rate set weights"
read -r a b <<<"$(flows 2)"
share=$(awk -v a="$a" -v b="$b" 'BEGIN { print a / (a + b) }')
within "$share" 0.25 0.10 || fail "weights 1:3 gave c1 a share of $share (a=$a b=$b)"
echo "ok: weights 1:3 -> c1 share $share"

# 2. A cap, with spare capacity left (c2 is uncapped and greedy).
"$CTL" rate set c1 tx_weight 1 tx_max 8gbit && "$CTL" rate set c2 tx_weight 1 || fail "rate set cap"
read -r a b <<<"$(flows 2)"
within "$a" 1000000000 0.10 || fail "cap 8gbit (1e9 B/s) gave $a B/s"
echo "ok: cap 1e9 B/s -> $a B/s (c2 $b B/s)"
t=$("$CTL" -j endpoint show c1 | jq '.[0].qos.throttled_ms')
[ "$t" -gt 0 ] || fail "c1's cap held it, but throttled_ms is $t"
echo "ok: c1 counted ${t} ms throttled by its cap"

# 3. A guarantee under contention from greedy neighbours: measure c1's
# fair share first, then guarantee it 1.5 times that.
"$CTL" rate set c1 tx_max 0 || fail "uncap"
read -r a b c d <<<"$(flows 4)"
want=$(awk -v a="$a" 'BEGIN { printf "%.0f", a * 1.5 }')
"$CTL" rate set c1 tx_share "${want}bps" || fail "rate set share"
read -r a b c d <<<"$(flows 4)"
awk -v a="$a" -v w="$want" 'BEGIN { exit !(a >= 0.9 * w) }' ||
	fail "guarantee $want B/s, got $a B/s (others $b $c $d)"
echo "ok: guarantee $want B/s -> $a B/s against $b $c $d"
g=$("$CTL" -j endpoint show c1 | jq '.[0].qos.bytes_guaranteed')
[ "$g" -gt 0 ] || fail "c1 was served under its guarantee, but bytes_guaranteed is $g"

# 4. A group cap holds for the sum of its children.
"$CTL" rate set c1 tx_share 0 || fail "unshare"
"$CTL" rate add g tx_max 16gbit && "$CTL" rate set c1 parent g && "$CTL" rate set c2 parent g ||
	fail "group"
read -r a b c <<<"$(flows 3)"
sum=$(awk -v a="$a" -v b="$b" 'BEGIN { print a + b }')
within "$sum" 2000000000 0.10 || fail "group cap 2e9 B/s gave c1+c2 = $sum B/s"
echo "ok: group cap 2e9 B/s -> c1+c2 $sum B/s (c3 $c B/s)"

# 5. Strict priority: c1 above c2, equal weights: c1 takes the adapter.
"$CTL" rate set c1 noparent tx_priority 1 && "$CTL" rate set c2 noparent || fail "rate set priority"
read -r a b <<<"$(flows 2)"
share=$(awk -v a="$a" -v b="$b" 'BEGIN { print a / (a + b) }')
awk -v s="$share" 'BEGIN { exit !(s >= 0.9) }' || fail "tx_priority 1 over 0 gave c1 a share of $share (a=$a b=$b)"
echo "ok: tx_priority 1 over 0 -> c1 share $share"
"$CTL" rate set c1 tx_priority 0 || fail "priority back"

# 6. A change applies within 100 ms: cap c1 while its flow runs, then
# measure its rate from 100 ms after the change, on ciovd's own counters.
"$CTL" rate set c1 noparent && "$CTL" rate set c2 noparent && "$CTL" rate del g ||
	fail "ungroup"
tx() { "$CTL" -j endpoint show c1 | jq '.[0].traffic.tx_bytes'; }
now() { date +%s%N; }
DUR=4 flows 2 >/dev/null & # long enough that a slow ciovctl cannot outlast it
fp=$!
sleep 1.2
"$CTL" rate set c1 tx_max 8gbit || fail "cap at runtime"
t0=$(now)
sleep 0.1
b0=$(tx); t1=$(now)
sleep 0.5
b1=$(tx); t2=$(now)
wait $fp
rate=$(awk -v b0="$b0" -v b1="$b1" -v t1="$t1" -v t2="$t2" 'BEGIN { print (b1 - b0) / ((t2 - t1) / 1e9) }')
within "$rate" 1000000000 0.10 || fail "100 ms after the cap c1 still moved $rate B/s"
echo "ok: cap set at runtime: from +$(( (t1 - t0) / 1000000 )) ms c1 moved $rate B/s"

# 7. Weights are hierarchical: a group of two (weight 1) against one
# endpoint (weight 1) halves the adapter between them, and the group's half
# is split between its children (flat weights would give each a third).
"$CTL" rate set c1 tx_max 0 || fail "uncap"
"$CTL" rate add g2 tx_weight 1 && "$CTL" rate set c1 parent g2 && "$CTL" rate set c2 parent g2 &&
	"$CTL" rate set c3 tx_weight 1 || fail "group weights"
read -r a b c <<<"$(flows 3)"
share=$(awk -v a="$a" -v b="$b" -v c="$c" 'BEGIN { print c / (a + b + c) }')
within "$share" 0.5 0.10 || fail "group (c1, c2) against c3 with equal weights gave c3 a share of $share (c1 $a c2 $b c3 $c)"
echo "ok: group of two against one endpoint, equal weights -> c3 share $share (c1 $a c2 $b)"
