#!/bin/bash
# Unmodified perftest through libciov-verbs against ciov-perf, same case,
# same run (median of three each): ib_write_bw vs ciov-perf write bw at
# 64 KiB, ib_send_lat vs ciov-perf send lat at 8 bytes. Goal: within 10%.
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
	"$RUN" --endpoint server "$@" -d ciov0 -x 0 -p $port >/dev/null 2>&1 &
	local s=$!
	sleep 0.3
	"$RUN" --endpoint client "$@" -d ciov0 -x 0 -p $port 127.0.0.1 2>/dev/null |
		awk '$1 ~ /^[0-9]+$/ && NF >= 4 {line = $0} END {print line}'
	wait $s
}
cp() {
	port=$((port + 1))
	CIOV_ENDPOINT=server "$PERF" "$@" --port $port >/dev/null 2>&1 &
	local s=$!
	CIOV_ENDPOINT=client "$PERF" "$@" --port $port --json 127.0.0.1 2>/dev/null | tail -n 1
	wait $s
}
median() { sort -g | sed -n 2p; }

ib_bw=$(for _ in 1 2 3; do ib ib_write_bw -s 65536 -n 20000 | awk '{print $4}'; done | median)
cp_bw=$(for _ in 1 2 3; do cp write bw --size 65536 --iters 20000 | jq '.bw_bytes_per_sec / 1e6'; done | median)
ib_lat=$(for _ in 1 2 3; do ib ib_send_lat -s 8 -n 20000 | awk '{print $5}'; done | median)
cp_lat=$(for _ in 1 2 3; do cp send lat --size 8 --iters 20000 | jq '.t_typical_us'; done | median)
jq -nc --argjson a "$ib_bw" --argjson b "$cp_bw" \
	'{bench:"verbs_bw", case:"RDMA WRITE 64 KiB", ib_write_bw_mb_per_s:$a, ciov_perf_mb_per_s:$b, ratio:($a/$b), goal:"0.9..1.1"}'
jq -nc --argjson a "$ib_lat" --argjson b "$cp_lat" \
	'{bench:"verbs_lat", case:"SEND 8 B, t_typical", ib_send_lat_us:$a, ciov_perf_us:$b, ratio:($a/$b), goal:"<= 1.1"}'
