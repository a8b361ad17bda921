#!/bin/bash
# VL arbitration protects latency: a ping-pong flow on a high-priority VL
# keeps its p99 within 2x of its unloaded p99 while bulk flows on a
# low-priority VL saturate the adapter; with the ping-pong's SL mapped to
# the bulk flows' VL (equal priority) it does not. The same flows, the same
# run: only the port's SL->VL table changes between the two. Also: the
# port counts the bytes per SL and per VL where the tables put them.
#
# The adapter has one port (on a veth in a namespace of its own), so that
# the port's tables apply; the flows are on loopback, where the engine's
# copy bandwidth is the shared resource.
#
# The engine has CPU 0 to itself and every tenant runs on CPU 1 (as a
# dedicated polling core is used): three spinners on two cores otherwise
# measure where the kernel puts them (a round trip takes 2 or 5 us), not
# the arbitration. The unloaded and the high-priority loaded p99 are each
# measured ROUNDS times, alternately, and their medians compared, so that
# one hiccup of the host does not decide.
set -u
B=${1:?usage: vl_latency.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"
BULK=${CIOV_VL_BULK:-4}	 # bulk flows
ITERS=${CIOV_VL_ITERS:-100000} # ping-pong round trips per measurement
ROUNDS=${CIOV_VL_ROUNDS:-3} # measurements of each (unloaded, high-priority)
BULK_SIZE=${CIOV_VL_BULK_SIZE:-1048576} # bytes per bulk WRITE
BULK_QPS=${CIOV_VL_BULK_QPS:-2} # QPs per bulk flow
[ "$(id -u)" = 0 ] || { echo "skip: needs root (a network namespace)"; exit 77; }
qos_skip_checks "instrumented tenants and engine make latency measure the instrumentation"
NS=ciov-vl-$$
ip netns add "$NS" || { echo "skip: cannot create a network namespace"; exit 77; }
QOS_CLEANUP="ip netns del $NS"
ip -n "$NS" link add va type veth peer name vb && ip -n "$NS" addr add 10.66.0.1/24 dev va &&
	ip -n "$NS" link set va up && ip -n "$NS" link set vb up || { ip netns del "$NS"; fail "veth pair"; }
qos_start ip netns exec "$NS"
T=() # the tenants' prefix
if [ "$(nproc)" -ge 2 ]; then
	taskset -a -p -c 0 "$(pgrep -f "^$CIOVD --runtime-dir $rt")" >/dev/null || fail "pinning ciovd"
	T=(taskset -c 1)
fi
"$CTL" port add p0 addr 10.66.0.1 >/dev/null || fail "port add"
"$CTL" endpoint add ps >/dev/null && "$CTL" endpoint add pc >/dev/null || fail "endpoints"
for i in $(seq "$BULK"); do
	"$CTL" endpoint add s$i >/dev/null && "$CTL" endpoint add c$i >/dev/null || fail "endpoints"
done
port=$((23000 + RANDOM % 10000))

# p99 [bulk]: sets P99 to the ping-pong's p99 (us) on SL 1, with the bulk flows (SL 0,
# 1 MiB WRITEs on 2 QPs each, deep queues, waiting on completion events so that they
# leave the CPUs to the engine) running when asked.
p99() {
	local i bulk=${1:-} pids=()
	if [ -n "$bulk" ]; then
		for i in $(seq "$BULK"); do
			CIOV_ENDPOINT=s$i "${T[@]}" "$PERF" write bw --size $BULK_SIZE --duration 30 --sl 0 --qps $BULK_QPS \
				--port $((port + i)) >/dev/null 2>&1 &
			pids+=($!)
		done
		sleep 0.3
		for i in $(seq "$BULK"); do
			CIOV_ENDPOINT=c$i "${T[@]}" "$PERF" write bw --size $BULK_SIZE --duration 30 --sl 0 --qps $BULK_QPS \
				--tx-depth 256 --event --port $((port + i)) 127.0.0.1 \
				>/dev/null 2>&1 &
			pids+=($!)
		done
		sleep 1
	fi
	CIOV_ENDPOINT=ps "${T[@]}" "$PERF" write lat --size 8 --iters "$ITERS" --sl 1 --port "$port" \
		>/dev/null 2>&1 &
	pids+=($!)
	sleep 0.3
	CIOV_ENDPOINT=pc "${T[@]}" "$PERF" write lat --size 8 --iters "$ITERS" --sl 1 --port "$port" \
		--json 127.0.0.1 >"$rt/lat.json" 2>"$rt/lat.err" || fail "ping-pong: $(cat "$rt/lat.err")"
	kill "${pids[@]}" 2>/dev/null
	wait "${pids[@]}" 2>/dev/null
	port=$((port + 10))
	P99=$(jq -r .t_p99_us "$rt/lat.json")
	[ -n "${CIOV_VL_DEBUG:-}" ] && cat "$rt/lat.json" >&2
}
vl_bytes() { "$CTL" -j port show p0 | jq ".[0].vl_bytes[$1]"; }

# Bulk on VL 0 (low), the ping-pong's SL 1 on VL 1 (high).
"$CTL" port set p0 sl2vl 0:0,1:1 vlarb_high 1:255 vlarb_low 0:255 high_limit 255 ||
	fail "port set (high-priority VL)"
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
us=() his=()
for _ in $(seq "$ROUNDS"); do
	p99
	us+=("$P99")
	p99 bulk
	his+=("$P99")
done
unloaded=$(median "${us[@]}")
hi=$(median "${his[@]}")
echo "ping-pong p99 (us) unloaded: ${us[*]}; high-priority VL under load: ${his[*]}"
v0=$(vl_bytes 0)
v1=$(vl_bytes 1)
[ "$v0" -gt 0 ] && [ "$v1" -gt 0 ] || fail "bytes per VL: VL0 $v0, VL1 $v1 (both flows ran)"
s1=$("$CTL" -j port show p0 | jq '.[0].sl_bytes[1]')
[ "$s1" = "$v1" ] || fail "SL 1 maps to VL 1 alone, but SL1 counted $s1 bytes and VL1 $v1"
# Equal priority: the ping-pong's SL on the bulk flows' VL.
"$CTL" port set p0 sl2vl 1:0 || fail "port set (equal priority)"
p99 bulk
eq=$P99
[ "$(vl_bytes 1)" = "$v1" ] || fail "SL 1 now maps to VL 0, yet VL 1 counted more bytes"
echo "ping-pong p99: unloaded $unloaded us; with $BULK bulk flows: high-priority VL $hi us, same VL $eq us"
awk -v h="$hi" -v u="$unloaded" 'BEGIN { exit !(h <= 2 * u) }' ||
	fail "on the high-priority VL the p99 went from $unloaded to $hi us (more than 2x)"
awk -v e="$eq" -v u="$unloaded" 'BEGIN { exit !(e > 2 * u) }' ||
	fail "on the bulk flows' VL the p99 went from $unloaded to only $eq us: the load does not show what the arbitration protects"
echo "ok: the high-priority VL kept p99 within 2x ($hi vs $unloaded us); equal priority did not ($eq us)"
