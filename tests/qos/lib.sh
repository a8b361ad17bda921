# Shared by the QoS tests: sourced after B (the build directory) is set.
# Sets CIOVD, CTL, PERF; qos_skip_checks REASON skips without jq and in a
# sanitizer build (REASON says why that build cannot measure it);
# qos_start [WRAPPER...] starts a ciovd of its own (under WRAPPER, e.g.
# `ip netns exec NS`) in temporary directories that the exit removes, with
# QOS_CLEANUP (if set) run first.
CIOVD=${CIOV_CIOVD:-$B/src/adapter/ciovd}
CTL=$B/src/tools/ciovctl
PERF=$B/src/tools/perf/ciov-perf
fail() { echo "FAIL: $*"; exit 1; }
qos_skip_checks() {
	command -v jq >/dev/null || { echo "skip: jq missing"; exit 77; }
	case ${CIOV_SANITIZE:-none} in
	none) ;;
	*)	echo "skip: sanitizer build ($CIOV_SANITIZE): $1; the normal build runs this test"
		exit 77 ;;
	esac
}
qos_cleanup() {
	kill $(jobs -p) 2>/dev/null
	wait 2>/dev/null
	${QOS_CLEANUP:-}
	rm -rf "$rt" "$st"
}
qos_start() {
	rt=$(mktemp -d /tmp/ciov-test-rt.XXXXXX)
	st=$(mktemp -d /tmp/ciov-test-st.XXXXXX)
	export CIOV_RUNTIME_DIR=$rt
	trap qos_cleanup EXIT
	"$@" "$CIOVD" --runtime-dir "$rt" --state-dir "$st" --foreground --quiet &
	for _ in $(seq 200); do [ -S "$rt/admin.sock" ] && return 0; sleep 0.05; done
	fail "ciovd did not start"
}
