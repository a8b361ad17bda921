#!/bin/bash
# Native mode end to end with real programs: the tenant of a native
# endpoint cannot create resources itself (EPERM); under ciov-hv, which
# provisions them over the admin socket, the same tenant moves verified
# data to a passthrough tenant; when it exits ciov-hv tears everything down.
set -u
B=${1:?usage: ciov_hv.sh BUILD_DIR}
CIOVD=${CIOV_CIOVD:-$B/src/adapter/ciovd}
CTL=$B/src/tools/ciovctl
PERF=$B/src/tools/perf/ciov-perf
HV=$B/src/tools/hv/ciov-hv
command -v jq >/dev/null || { echo "skip: jq missing"; exit 77; }
rt=$(mktemp -d /tmp/ciov-test-rt.XXXXXX)
st=$(mktemp -d /tmp/ciov-test-st.XXXXXX)
export CIOV_RUNTIME_DIR=$rt
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$rt" "$st"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$CIOVD" --runtime-dir "$rt" --state-dir "$st" --foreground --quiet &
dpid=$!
pids+=($dpid)
for _ in $(seq 200); do [ -S "$rt/admin.sock" ] && break; sleep 0.05; done
"$CTL" endpoint add a >/dev/null || fail "endpoint add a"
"$CTL" endpoint add vm1 mode native >/dev/null || fail "endpoint add vm1"

port=$((20000 + RANDOM % 20000))
CIOV_ENDPOINT=a "$PERF" write bw --size 4096 --iters 500 --verify --port $port >/dev/null 2>&1 &
pids+=($!)
sleep 0.3
# 1. On its own, a native tenant may not create a PD.
out=$(CIOV_ENDPOINT=vm1 timeout 20 "$PERF" write bw --size 4096 --iters 500 --port $port 127.0.0.1 2>&1)
echo "$out" | grep -q "alloc PD: Operation not permitted" || fail "native tenant was not refused: $out"

# 2. Under its hypervisor it attaches to what was provisioned and moves data.
CIOV_ENDPOINT=a "$PERF" write bw --size 4096 --iters 500 --verify --port $((port + 1)) >/dev/null 2>&1 &
pids+=($!)
sleep 0.3
out=$(timeout 30 "$HV" --mem 16 vm1 -- "$PERF" write bw --size 4096 --iters 500 --verify --native \
	--json --port $((port + 1)) 127.0.0.1) || fail "ciov-hv run failed: $out"
echo "$out" | grep -q "qp.create  on vm1" || fail "ciov-hv did not provision a QP: $out"
bw=$(echo "$out" | grep '^{' | jq -r '.bw_bytes_per_sec')
[ -n "$bw" ] && [ "$bw" != null ] && [ "${bw%.*}" -gt 0 ] || fail "no bandwidth figure: $out"

# 3. Torn down: the endpoint holds nothing, and its traffic was counted.
"$CTL" -j endpoint show vm1 | jq -e '.[0].usage | [.pds, .mrs, .segments, .cqs, .qps] == [0,0,0,0,0]' \
	>/dev/null || fail "vm1 still holds resources"
"$CTL" -j endpoint show vm1 | jq -e '.[0].traffic.tx_msgs >= 500' >/dev/null ||
	fail "vm1's traffic not counted"
echo "ok: native tenant refused alone, moved $bw B/s under ciov-hv, torn down"
