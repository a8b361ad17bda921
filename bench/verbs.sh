#!/bin/bash
# Unmodified perftest through libciov-verbs against ciov-perf, same case,
# same run (the tools take turns; median and best of each): ib_write_bw vs ciov-perf write bw at
# 64 KiB, ib_send_lat vs ciov-perf send lat at 8 bytes without inline data
# (perftest asks for none). Goal: within 10%. ib_write_bw gets -Q 64:
# ciov-perf signals one WR in 64 at depth 128, and perftest, left alone,
# signals every WR at this size (one CQE per 64 KiB costs it about 5%).
set -uo pipefail
B=$(cd "${1:-build}" && pwd)
RUN=$B/src/verbs/ciov-run
PERF=$B/src/tools/perf/ciov-perf
command -v ib_write_bw >/dev/null && [ -x "$RUN" ] || {
	echo '{"bench":"verbs","skipped":"perftest or the shim missing"}'
	exit 0
}
. "$(dirname "$0")/lib.sh"
bench_adapter
port=19500

# ib TOOL ARGS...: server and client; prints the client's result line.
ib() {
	port=$((port + 1))
	"${TS[@]}" "$RUN" --endpoint server "$@" -d ciov0 -x 0 -p $port >/dev/null 2>&1 &
	local s=$!
	sleep 0.3
	"${TS[@]}" "$RUN" --endpoint client "$@" -d ciov0 -x 0 -p $port 127.0.0.1 2>/dev/null |
		awk '$1 ~ /^[0-9]+$/ && NF >= 4 {line = $0} END {print line}'
	wait $s
}
cp() {
	port=$((port + 1))
	CIOV_ENDPOINT=server "${TS[@]}" "$PERF" "$@" --port $port >/dev/null 2>&1 &
	local s=$!
	CIOV_ENDPOINT=client "${TS[@]}" "$PERF" "$@" --port $port --json 127.0.0.1 2>/dev/null | tail -n 1
	wait $s
}
# Latency: with the engine alone on a core and the two tenants on the other
# a round trip is stable (t_typical 2.3 us, p99 3 us here); when the
# scheduler puts a tenant on the engine's core it doubles (4.7 us). Left to
# the scheduler, either tool lands in either mode, so each latency run
# pins ciovd to CPU 0 and both tenants to CPU 1 (as a dedicated polling
# core would be used), the same for both tools. Set CIOV_BENCH_PIN=0 to
# leave placement to the scheduler.
PIN=${CIOV_BENCH_PIN:-1}
[ "$(nproc)" -ge 2 ] || PIN=0
TS=() # the tenants' prefix while pinned
pinned() { # pinned CMD...: CMD's tenants on CPU 1, ciovd on CPU 0, when pinning
	[ "$PIN" = 1 ] || { "$@"; return; }
	taskset -p -c 0 "$dpid" >/dev/null
	TS=(taskset -c 1)
	"$@"
	TS=()
	taskset -p -c 0-"$(($(nproc) - 1))" "$dpid" >/dev/null
}
# The latency of three spinners on two cores is bimodal (the same tool
# gives t_typical 2.3 or 4.7 us depending on where the scheduler puts the
# processes), and bandwidth varies between runs: the two tools take turns,
# RUNS runs each, and each side reports its median and its best.
RUNS=${CIOV_BENCH_RUNS:-5}
stats() { sort -g | awk '{v[NR] = $1} END {printf "%s %s\n", v[int((NR + 1) / 2)], (best == "max" ? v[NR] : v[1])}' best="$1"; }
: >"$B/verbs-ib-bw" && : >"$B/verbs-cp-bw" && : >"$B/verbs-ib-lat" && : >"$B/verbs-cp-lat"
for _ in $(seq "$RUNS"); do
	ib ib_write_bw -s 65536 -D 2 -Q 64 | awk '{print $4}' >>"$B/verbs-ib-bw"
	cp write bw --size 65536 --duration 2 | jq '.bw_bytes_per_sec / 1048576' >>"$B/verbs-cp-bw"
	pinned ib ib_send_lat -s 8 -n 100000 | awk '{print $5}' >>"$B/verbs-ib-lat"
	pinned cp send lat --size 8 --iters 100000 --inline 0 | jq '.t_typical_us' >>"$B/verbs-cp-lat"
done
read -r ib_bw ib_bw_best < <(stats max <"$B/verbs-ib-bw")
read -r cp_bw cp_bw_best < <(stats max <"$B/verbs-cp-bw")
read -r ib_lat ib_lat_best < <(stats min <"$B/verbs-ib-lat")
read -r cp_lat cp_lat_best < <(stats min <"$B/verbs-cp-lat")
rm -f "$B"/verbs-{ib,cp}-{bw,lat}
jq -nc --argjson a "$ib_bw" --argjson b "$cp_bw" --argjson c "$ib_bw_best" --argjson d "$cp_bw_best" --argjson n "$RUNS" \
	'{bench:"verbs_bw", case:"RDMA WRITE 64 KiB", runs:$n, units:"MiB/s (perftest MB/sec is 2^20 bytes)", ib_write_bw:$a, ciov_perf:$b, ratio:($a/$b), best_ib_write_bw:$c, best_ciov_perf:$d, ratio_best:($c/$d), goal:"0.9..1.1"}'
jq -nc --argjson a "$ib_lat" --argjson b "$cp_lat" --argjson c "$ib_lat_best" --argjson d "$cp_lat_best" --argjson n "$RUNS" --argjson pin "$PIN" \
	'{bench:"verbs_lat", case:"SEND 8 B (no inline: perftest asks none), t_typical", runs:$n, pinned:($pin == 1), ib_send_lat_us:$a, ciov_perf_us:$b, ratio:($a/$b), best_ib_send_lat_us:$c, best_ciov_perf_us:$d, ratio_best:($c/$d), goal:"<= 1.1"}'
