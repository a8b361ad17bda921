#!/bin/bash
# Data path against its peers, measured in the same run (JSON lines):
# Each ciov-perf figure is the median of three runs.
#  - RDMA WRITE / READ / SEND bandwidth between two tenants at 64 KiB and
#    1 MiB, as a ratio to single-thread memcpy at the same size (goal >= 0.7);
#  - 8-byte WRITE and SEND latency (half round trip, polling) as a ratio to
#    the three-process relay ping-pong (goal <= 1.5) and to the plain
#    two-process cache-line ping-pong;
#  - 64-byte WRITE message rate with 16 outstanding, and ciovd's CPU time
#    per message;
#  - ciovd's CPU share while idle with 100 endpoints holding QPs (goal < 1%).
set -uo pipefail
B=$(cd "${1:-build}" && pwd)
export CIOV_BUILD=$B
BL=$B/bench/baseline
PERF=$B/src/tools/perf/ciov-perf
. "$(dirname "$0")/lib.sh"
bench_adapter

port=19000
# perf TEST KIND ARGS...: one ciov-perf pair, the client's JSON line out.
perf() {
	port=$((port + 1))
	CIOV_ENDPOINT=server "$PERF" "$@" --port $port >/dev/null 2>&1 &
	local s=$!
	CIOV_ENDPOINT=client "$PERF" "$@" --port $port --json 127.0.0.1 2>/dev/null | tail -n 1
	wait $s
}
# median3 TEST KIND ARGS...: the median (by bandwidth, or by typical
# latency) of three runs: these machines are noisy.
median3() {
	local key=bw_bytes_per_sec
	[ "$2" = lat ] && key=t_typical_us
	{ perf "$@"; perf "$@"; perf "$@"; } | jq -s -c "sort_by(.$key)[1]"
}
cpu() { awk '{print $14 + $15}' "/proc/$dpid/stat"; }
emit() { jq -c "$@"; }

memcpy=$("$BL/bench-memcpy-bw" --json)
relay=$("$BL/bench-relay3-yield" --json)
pingpong=$("$BL/bench-cacheline-pingpong" --json)
echo "$memcpy"
echo "$relay"
echo "$pingpong"

for size in 65536 1048576; do
	mc=$(echo "$memcpy" | jq -s "map(select(.mode == \"hot\" and .bytes == $size))[0].gb_per_s")
	for t in write read send; do
		[ $t = send ] && [ $size = 1048576 ] && continue
		iters=$((size == 65536 ? 20000 : 2000))
		r=$(median3 $t bw --size $size --iters $iters)
		echo "$r" | emit --argjson mc "$mc" \
			'{bench:"datapath_bw", test, bytes, bw_gb_per_s:(.bw_bytes_per_sec/1e9),
			  memcpy_gb_per_s:$mc, ratio_to_memcpy:((.bw_bytes_per_sec/1e9)/$mc), goal:0.7}'
	done
done

relay50=$(echo "$relay" | jq .half_rtt_p50_us)
relay99=$(echo "$relay" | jq .half_rtt_p99_us)
pp50=$(echo "$pingpong" | jq .half_rtt_p50_ns)
for t in write send; do
	r=$(median3 $t lat --size 8 --iters 20000)
	echo "$r" | emit --argjson r50 "$relay50" --argjson r99 "$relay99" --argjson pp "$pp50" \
		'{bench:"datapath_lat", test, bytes, t_typical_us, t_p99_us,
		  relay_p50_us:$r50, relay_p99_us:$r99,
		  ratio_p50_to_relay:(.t_typical_us/$r50), ratio_p99_to_relay:(.t_p99_us/$r99),
		  ratio_p50_to_cacheline_pingpong:(.t_typical_us*1000/$pp), goal_ratio_to_relay:1.5}'
done

c0=$(cpu)
r=$(perf write bw --size 64 --iters 500000 --tx-depth 16)
c1=$(cpu)
echo "$r" | emit --argjson c0 "$c0" --argjson c1 "$c1" --argjson hz "$(getconf CLK_TCK)" \
	'{bench:"datapath_msg_rate", test, bytes, outstanding:16, msg_per_sec,
	  ciovd_cpu_ns_per_msg:((($c1-$c0)/$hz)*1e9/.iterations)}'

kill $dpid; wait $dpid 2>/dev/null
"$B/bench/bench-idle"
