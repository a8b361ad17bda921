#!/bin/bash
# make demo: start an adapter on its embedded defaults, carve endpoints,
# move real data between tenants, show what happened, stop.
set -euo pipefail
B=${1:-build}
B=$(cd "$B" && pwd)
CIOVD=$B/src/adapter/ciovd
CTL=$B/src/tools/ciovctl
PERF=$B/src/tools/perf/ciov-perf
HV=$B/src/tools/hv/ciov-hv
rt=$(mktemp -d /tmp/ciov-demo-rt.XXXXXX)
st=$(mktemp -d /tmp/ciov-demo-st.XXXXXX)
chmod 755 "$rt"
export CIOV_RUNTIME_DIR=$rt
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$rt" "$st"
}
trap cleanup EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "1. Start the adapter (ciovd) with its embedded defaults: one adapter, one port"
"$CIOVD" --runtime-dir "$rt" --state-dir "$st" --foreground --quiet &
pids+=($!)
for _ in $(seq 100); do [ -S "$rt/admin.sock" ] && break; sleep 0.05; done
run "$CTL" adapter show

say "2. Carve endpoints: two passthrough tenants, one native (hypervisor-managed) VM"
run "$CTL" endpoint add tenant-a mode passthrough quota qps 16
run "$CTL" endpoint add tenant-b mode passthrough quota qps 16
run "$CTL" endpoint add vm1 mode native quota qps 4

# A ciov-perf pair: server on endpoint $1, client on $2, test args after.
pair() {
	local srv=$1 cli=$2 port=$3
	shift 3
	CIOV_ENDPOINT=$srv "$PERF" "$@" --port "$port" >/dev/null 2>&1 &
	local sp=$!
	sleep 0.3
	CIOV_ENDPOINT=$cli "$PERF" "$@" --port "$port" 127.0.0.1
	wait "$sp"
}

say "3. RDMA WRITE bandwidth, tenant-b -> tenant-a (each on its own endpoint; data moved by the adapter)"
pair tenant-a tenant-b 18515 write bw --size 65536 --iters 20000
pair tenant-a tenant-b 18516 write bw --size 1048576 --iters 2000

say "4. SEND latency (half round trip), tenant-b <-> tenant-a, data verified"
pair tenant-a tenant-b 18517 send lat --size 8 --iters 5000 --verify

say "5. RDMA READ and atomic fetch-and-add"
pair tenant-a tenant-b 18518 read bw --size 65536 --iters 5000
pair tenant-a tenant-b 18519 atomic lat --iters 2000

say "6. Native mode: vm1's tenant may not create resources; its hypervisor (ciov-hv) provisions them"
echo "(a native tenant's own create_qp/reg_mr fails with EPERM: tests/ctl, tests/queue)"
CIOV_ENDPOINT=tenant-a "$PERF" write bw --size 65536 --iters 5000 --port 18520 >/dev/null 2>&1 &
pids+=($!)
sleep 0.3
run "$HV" --mem 64 vm1 -- "$PERF" write bw --size 65536 --iters 5000 --native --port 18520 127.0.0.1

say "7. What the adapter saw"
run "$CTL" endpoint show
run "$CTL" adapter show

say "8. Stop the adapter"
kill "${pids[0]}"
wait "${pids[0]}" && echo "ciovd stopped cleanly"
pids=()

say "9. Across hosts: two network namespaces joined by a veth pair, an adapter in each"
if [ "$(id -u)" != 0 ]; then
	echo "(skipped: building namespaces needs root)"
	exit 0
fi
. "$(dirname "$0")/../bench/netns.sh"
netns_on_exit cleanup
netns_pair >/dev/null
for h in A B; do
	eval "ns=\$NS_$h ip=\$IP_$h"
	mkdir -p "$rt/$h"
	ip netns exec "$ns" "$CIOVD" --runtime-dir "$rt/$h" --state-dir "$rt/$h" --foreground --quiet &
	pids+=($!)
	for _ in $(seq 100); do [ -S "$rt/$h/admin.sock" ] && break; sleep 0.05; done
	run "$CTL" --runtime-dir "$rt/$h" port add p0 addr "$ip"
	"$CTL" --runtime-dir "$rt/$h" endpoint add e >/dev/null
done
# xpair TEST ARGS...: server on host B, client on host A naming B's address.
xpair() {
	ip netns exec "$NS_B" "$PERF" "$@" --endpoint e --runtime-dir "$rt/B" --port 18530 >/dev/null 2>&1 &
	local sp=$!
	sleep 0.3
	ip netns exec "$NS_A" "$PERF" "$@" --endpoint e --runtime-dir "$rt/A" --port 18530 "$IP_B"
	wait "$sp"
}
echo "RDMA WRITE, 64 KiB, host A -> host B (RoCEv2 over UDP 4791, path MTU 1024), data verified:"
xpair write bw --size 65536 --iters 5000 --verify
echo "RDMA READ latency across the fabric:"
xpair read lat --size 8 --iters 2000
run "$CTL" --runtime-dir "$rt/A" port show p0
