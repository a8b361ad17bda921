#!/bin/bash
# Shared by the verbs tests: a real ciovd in a temporary runtime dir, two
# endpoints (a: server side, b: client side), ciov-run, and a runner for
# server + client pairs. Source it with BUILD_DIR as $1.
set -u
B=${1:-${CIOV_BUILD:-}}
CTL=$B/src/tools/ciovctl
CIOVD=${CIOV_CIOVD:-$B/src/adapter/ciovd}
RUN=$B/src/verbs/ciov-run
for x in "$CTL" "$CIOVD" "$RUN"; do
	[ -x "$x" ] || { echo "SKIP: no $x"; exit 77; }
done

# need_tools TOOL...: skip unless Debian's tools are installed
need_tools() {
	for t in "$@"; do
		command -v "$t" >/dev/null ||
			{ echo "SKIP: $t is not installed (apt-get install ibverbs-utils perftest; make deps)"; exit 77; }
	done
}

# A shim built with ASan cannot be preloaded into an uninstrumented binary.
foreign_ok() {
	if [ "${CIOV_SANITIZE:-none}" != none ]; then
		echo "SKIP: sanitizer build (${CIOV_SANITIZE}): its libciov-verbs cannot be preloaded into Debian's uninstrumented binaries; the normal build runs this test"
		exit 77
	fi
}

T=$(mktemp -d) || exit 1
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT

# CIOV_VERBS_FABRIC=1: two hosts instead (bench/netns.sh: two network
# namespaces joined by a veth pair), a ciovd and a fabric port in each;
# endpoint a (servers) on host B, endpoint b (clients) on host A, and the
# client names the server's address: the same runs across the fabric.
HOST_A= HOST_B= SERVER_ADDR=localhost
start_fabric() {
	[ "$(id -u)" = 0 ] || { echo "SKIP: two hosts need root"; exit 77; }
	. "$(dirname "${BASH_SOURCE[0]}")/../../bench/netns.sh"
	netns_on_exit cleanup
	netns_pair >/dev/null || { echo "SKIP: cannot build network namespaces"; exit 77; }
	for h in A B; do
		local ns ip
		eval "ns=\$NS_$h ip=\$IP_$h"
		mkdir -p "$T/$h"
		ip netns exec "$ns" "$CIOVD" --runtime-dir "$T/$h" --state-dir "$T/$h" --foreground \
			--quiet 2>"$T/ciovd-$h.log" &
		PIDS="$PIDS $!"
		for _ in $(seq 100); do [ -S "$T/$h/admin.sock" ] && break; sleep 0.05; done
		"$CTL" --runtime-dir "$T/$h" port add p0 addr "$ip" >/dev/null ||
			{ echo "FAIL: port on $h"; exit 1; }
	done
	"$CTL" --runtime-dir "$T/B" endpoint add a >/dev/null &&
		"$CTL" --runtime-dir "$T/A" endpoint add b >/dev/null || { echo "FAIL: no endpoints"; exit 1; }
	HOST_A="ip netns exec $NS_A env CIOV_RUNTIME_DIR=$T/A"
	HOST_B="ip netns exec $NS_B env CIOV_RUNTIME_DIR=$T/B"
	SERVER_ADDR=$IP_B
}

start_ciovd() {
	local admin_group=
	if [ "${CIOV_VERBS_FABRIC:-0}" = 1 ]; then
		start_fabric
		return
	fi
	mkdir -p "$T/run" "$T/state"
	[ "$(id -u)" = 0 ] || admin_group="--admin-group $(id -gn)"
	# shellcheck disable=SC2086
	"$CIOVD" --runtime-dir "$T/run" --state-dir "$T/state" --foreground --quiet $admin_group \
		2>"$T/ciovd.log" &
	PIDS=$!
	for _ in $(seq 100); do
		"$CTL" --runtime-dir "$T/run" endpoint add a >/dev/null 2>&1 && break
		sleep 0.05
	done
	"$CTL" --runtime-dir "$T/run" endpoint add b >/dev/null || { echo "FAIL: no endpoints"; exit 1; }
	export CIOV_RUNTIME_DIR=$T/run
}

FAILED=0
fail() { echo "    FAIL: $*"; FAILED=$((FAILED + 1)); }
# ok NAME BEFORE: TAP-ish line for one named check
report() { [ "$FAILED" = "$2" ] && echo "ok - $1" || echo "not ok - $1"; }
finish() {
	[ "$FAILED" = 0 ] && { echo PASS; exit 0; }
	echo "FAIL: $FAILED check(s)"
	exit 1
}

# A TCP port per run, away from the tools' defaults (18515, 18515+).
PORT=$((30000 + $$ % 20000))

# The tools' output line by line, so that what a tool printed before a
# timeout killed it is still in its file (stdio buffers a file whole).
LINEBUF=
command -v stdbuf >/dev/null && LINEBUF="stdbuf -oL"

# pair TIMEOUT TOOL ARGS...: server on endpoint a, client on endpoint b
# (localhost), each with "-p PORT"; output in $T/srv.out and $T/cli.out.
# Returns 0 if both exit 0.
pair() {
	local to=$1
	shift
	PORT=$((PORT + 1))
	# shellcheck disable=SC2086
	timeout "$to" $HOST_B "$RUN" --endpoint a $LINEBUF "$@" -p $PORT >"$T/srv.out" 2>&1 &
	local sp=$!
	local c=1
	# the client retries while the server is not listening yet
	for _ in $(seq 50); do
		# shellcheck disable=SC2086
		timeout "$to" $HOST_A "$RUN" --endpoint b $LINEBUF "$@" -p $PORT $SERVER_ADDR >"$T/cli.out" 2>&1
		c=$?
		grep -qi "couldn't connect\|Couldn't connect\|Unable to open file descriptor" "$T/cli.out" || break
		sleep 0.1
	done
	wait $sp
	local s=$?
	if [ $c != 0 ] || [ $s != 0 ]; then
		fail "$*: client $c server $s"
		sed 's/^/    client: /' "$T/cli.out" | tail -5
		sed 's/^/    server: /' "$T/srv.out" | tail -5
		return 1
	fi
}
