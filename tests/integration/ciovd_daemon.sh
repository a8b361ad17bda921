#!/bin/bash
# ciovd without --foreground: when it returns, its sockets already accept;
# SIGTERM stops the detached daemon cleanly (sockets removed); a second
# ciovd on the same runtime directory is refused.
set -u
B=${1:?usage: ciovd_daemon.sh BUILD_DIR}
CIOVD=${CIOV_CIOVD:-$B/src/adapter/ciovd}
CTL=$B/src/tools/ciovctl
rt=$(mktemp -d /tmp/ciov-test-rt.XXXXXX)
st=$(mktemp -d /tmp/ciov-test-st.XXXXXX)
cleanup() {
	pkill -f -- "--runtime-dir $rt" 2>/dev/null
	rm -rf "$rt" "$st"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$CIOVD" --runtime-dir "$rt" --state-dir "$st" --quiet || fail "ciovd did not start"
CIOV_RUNTIME_DIR=$rt "$CTL" adapter show >/dev/null || fail "sockets not ready when ciovd returned"
pid=$(pgrep -f -- "--runtime-dir $rt") || fail "no detached ciovd"
out=$("$CIOVD" --runtime-dir "$rt" --state-dir "$st" 2>&1) && fail "a second ciovd started"
echo "$out" | grep -q "another ciovd is running" || fail "second ciovd: $out"
kill -TERM "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$pid" 2>/dev/null && fail "ciovd ignored SIGTERM"
[ -e "$rt/admin.sock" ] || [ -e "$rt/tenant.sock" ] && fail "sockets left behind"
echo "ok: detached ciovd ready on return, refused twice, stopped by SIGTERM"
