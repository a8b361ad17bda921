# Fabric test fixture, sourced by the tests in this folder: two or three
# "hosts" (network namespaces; bench/netns.sh), a ciovd in each with a
# fabric port on the host's address and an endpoint "e", and helpers to run
# tenants (ciov-perf) in them. Needs root, iproute2 and CIOV_BUILD.
# Exit codes: 0 pass, 1 fail, 77 skip (with the reason printed).

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=${CIOV_BUILD:?CIOV_BUILD is the build directory}
CIOVD=${CIOV_CIOVD:-$B/src/adapter/ciovd}
CTL=$B/src/tools/ciovctl
PERF=$B/src/tools/perf/ciov-perf
PMTU=${CIOV_TEST_PMTU:-1024}
FAB_TMP=$(mktemp -d /tmp/ciov-fabric.XXXXXX)
FAB_FAILED=0

fail() { echo "FAIL: $*"; FAB_FAILED=1; }
skip() { echo "SKIP: $*"; exit 77; }

. "$SRC/bench/netns.sh"

fab_cleanup() {
	local f
	for f in "$FAB_TMP"/*.pid; do
		[ -e "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	sleep 0.2
	for f in "$FAB_TMP"/*.pid; do
		[ -e "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
	done
	rm -rf "$FAB_TMP"
}

# fab_ctl H ARGS...: ciovctl against host H's ciovd (H: A, B, C).
fab_ctl() {
	local h=$1
	shift
	CIOV_RUNTIME_DIR=$FAB_TMP/$h "$CTL" "$@"
}

# fab_start H: ciovd in host H's namespace, its port p0, endpoint e.
fab_start() {
	local h=$1 ns ip
	eval "ns=\$NS_$h ip=\$IP_$h"
	mkdir -p "$FAB_TMP/$h"
	ip netns exec "$ns" "$CIOVD" --runtime-dir "$FAB_TMP/$h" --state-dir "$FAB_TMP/$h" \
		--foreground --quiet 2>"$FAB_TMP/$h.log" &
	echo $! >"$FAB_TMP/$h.pid"
	for _ in $(seq 100); do [ -S "$FAB_TMP/$h/admin.sock" ] && break; sleep 0.05; done
	fab_ctl "$h" port add p0 addr "$ip" mtu "$PMTU" >/dev/null || return 1
	fab_ctl "$h" endpoint add e >/dev/null || return 1
}

# fab_stop H: SIGTERM host H's ciovd; fails the test unless it exits 0.
fab_stop() {
	local h=$1 pid rc
	pid=$(cat "$FAB_TMP/$h.pid")
	kill "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	rm -f "$FAB_TMP/$h.pid"
	[ "$rc" = 0 ] || { fail "ciovd on $h exited $rc"; cat "$FAB_TMP/$h.log"; }
}

# fab_hosts 2|3: the namespaces and one ciovd in each.
fab_hosts() {
	netns_available 2>/dev/null || skip "network namespaces need root and iproute2"
	[ -x "$CTL" ] && [ -x "$PERF" ] || skip "ciovctl or ciov-perf not built"
	netns_on_exit fab_cleanup
	if [ "$1" = 3 ]; then
		netns_bridge3 >/dev/null || skip "cannot build the bridge fixture"
		HOSTS="A B C"
	else
		netns_pair >/dev/null || skip "cannot build the veth fixture"
		HOSTS="A B"
	fi
	for h in $HOSTS; do
		fab_start "$h" || { cat "$FAB_TMP/$h.log"; echo "FAIL: ciovd/port on $h"; exit 1; }
	done
}

# fab_perf SERVER_HOST CLIENT_HOST OUTFILE ARGS...: a ciov-perf server on
# one host, its client on the other naming the server's address; 0 if both
# succeed. Each pair uses its own out-of-band port.
FAB_OOB=18600
fab_perf() {
	local sh=$1 ch=$2 out=$3 sns cns sip spid rc
	shift 3
	eval "sns=\$NS_$sh cns=\$NS_$ch sip=\$IP_$sh"
	FAB_OOB=$((FAB_OOB + 1))
	ip netns exec "$sns" "$PERF" "$@" --endpoint e --runtime-dir "$FAB_TMP/$sh" \
		--port $FAB_OOB >"$out.server" 2>&1 &
	spid=$!
	timeout "${FAB_PERF_TIMEOUT:-60}" ip netns exec "$cns" "$PERF" "$@" --endpoint e \
		--runtime-dir "$FAB_TMP/$ch" --port $FAB_OOB --json "$sip" >"$out" 2>&1
	rc=$?
	wait $spid || rc=1
	return $rc
}

# fab_counter H NAME: port p0's counter NAME on host H.
fab_counter() {
	fab_ctl "$1" port show p0 -j | jq -r ".[0].counters.$2"
}

# xfer, a test tool, keeps its endpoints, QPs and memory until exit(): a
# sanitizer build checks ciovd for leaks (it must free what tenants leave),
# not the tool.
XFER_ENV="ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0"

# fab_run DESC ARGS...: ciov-perf ARGS --verify, server on B, client on A;
# fails the test unless both succeed and the client reports a non-zero
# figure, which it prints.
fab_run() {
	local desc=$1 out=$FAB_TMP/out
	shift
	if ! fab_perf B A "$out" "$@" --verify; then
		fail "$desc: $(tail -n 3 "$out" "$out.server" | tr '\n' ' ')"
		return
	fi
	jq -e 'select(.kind) | (.bw_bytes_per_sec // .t_typical_us) > 0' "$out" >/dev/null ||
		fail "$desc: no figure in $(cat "$out")"
	echo "ok: $desc $(jq -r 'select(.kind) | if .bw_bytes_per_sec then "\(.bw_bytes_per_sec / 1e6 | floor) MB/s, \(.msg_per_sec) msg/s" else "\(.t_typical_us) us" end' "$out")"
}

# fab_wire_ready: what a test that reads the wire needs, or skip: tcpdump,
# ethtool and python3, and both hosts' veths sending wire packets rather
# than UDP GSO super-frames (segmentation offload off), so that a capture
# shows every packet as the peer receives it.
fab_wire_ready() {
	local t h ns dev
	for t in tcpdump ethtool python3; do
		command -v $t >/dev/null || skip "$t is not installed (make deps)"
	done
	for h in A B; do
		eval "ns=\$NS_$h dev=\$DEV_$h"
		ip netns exec "$ns" ethtool -K "$dev" tx-udp-segmentation off >/dev/null 2>&1 ||
			skip "ethtool cannot turn tx-udp-segmentation off on veth"
	done
}
