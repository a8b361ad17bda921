#!/bin/bash
# make bench: every benchmark, JSON lines on stdout (one per measurement),
# a copy in bench/out/, and the ratios against the peers measured in the
# same run. Benchmarks are not tests: they never fail on a number.
set -uo pipefail
B=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
out=$here/out
mkdir -p "$out"
export CIOV_BUILD=$B
: >"$out/results.jsonl"
section() { printf '\n== %s\n' "$*" >&2; }
record() { tee -a "$out/results.jsonl"; }

section "control path: reg_mr (new and already-shared memory), passthrough and native"
"$B/bench/bench-reg-mr" | record
section "control path: create_qp, modify_qp to RTS, destroy"
"$B/bench/bench-qp" 2000 | record
if [ -x "$here/datapath.sh" ]; then
	section "data path: ciov-perf against memcpy and the three-process relay"
	"$here/datapath.sh" "$B" | record
fi
section "QoS over time: four flows while the rate settings change (bench/out/qos_timeline.png)"
"$here/qos_plot.sh" "$B" | record
section "libibverbs applications through libciov-verbs against ciov-perf"
"$here/verbs.sh" "$B" | record
section "fabric: ciov-perf across two namespaces against iperf3, UDP GSO and a UDP ping-pong"
"$here/fabric.sh" "$B" | record
section "ICRC throughput against memcpy"
"$B/bench/bench-icrc" | record
echo "results: $out/results.jsonl" >&2
