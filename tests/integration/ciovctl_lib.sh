# Shared by the ciovctl_*.sh tests; sourced, not a test itself.
#
# ctl_setup BUILD_DIR sets CTL (the ciovctl binary) and T (a temporary
# directory removed at exit, with every process started by ctl_spawn).
# run RC ARGS... runs `ciovctl --runtime-dir $RUNDIR ARGS...`, expects exit
# status RC and keeps stdout in $T/out, stderr in $T/err for the checks below.
# Each test case is a shell function run by `t NAME`; finish prints the
# verdict and exits 0 (all passed) or 1.

FAILED=0
PIDS=
RUNDIR=

skip() {
	echo "SKIP: $*"
	exit 77
}

fail() {
	echo "    FAIL: $*"
	FAILED=$((FAILED + 1))
}

ctl_cleanup() {
	for _p in $PIDS; do
		kill "$_p" 2>/dev/null
		wait "$_p" 2>/dev/null
	done
	PIDS=
	[ -n "${T:-}" ] && rm -rf "$T"
}

ctl_setup() {
	B=${1:-${CIOV_BUILD:-}}
	CTL=$B/src/tools/ciovctl
	[ -n "$B" ] && [ -x "$CTL" ] || skip "no ciovctl in build directory '$B' (give it as \$1)"
	command -v jq >/dev/null 2>&1 || skip "jq is not installed"
	T=$(mktemp -d) || exit 1
	trap ctl_cleanup EXIT
	trap 'exit 1' HUP INT TERM
}

# ctl_spawn CMD...: start CMD in the background, killed at exit; $! is its pid.
ctl_spawn() {
	"$@" &
	PIDS="$PIDS $!"
}

# ctl_stop PID: stop one process started by ctl_spawn.
ctl_stop() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	_left=
	for _p in $PIDS; do
		[ "$_p" = "$1" ] || _left="$_left $_p"
	done
	PIDS=$_left
}

# wait_socket PATH PID: until PATH is a socket (10 s), while PID lives.
wait_socket() {
	_i=0
	while [ ! -S "$1" ]; do
		kill -0 "$2" 2>/dev/null || return 1
		_i=$((_i + 1))
		[ "$_i" -le 200 ] || return 1
		sleep 0.05
	done
}

# t NAME: run test case NAME (only those matching $CIOVCTL_ONLY, if set)
t() {
	case $1 in
	*${CIOVCTL_ONLY:-}*) ;;
	*) return ;;
	esac
	_t_before=$FAILED
	"$1"
	if [ "$FAILED" = "$_t_before" ]; then
		echo "ok - $1"
	else
		echo "not ok - $1"
	fi
}

finish() {
	if [ "$FAILED" = 0 ]; then
		echo "PASS"
		exit 0
	fi
	echo "FAIL: $FAILED check(s) failed"
	exit 1
}

show_file() {
	sed "s/^/    $2: /" "$1" | head -n 20
}

run() {
	_want=$1
	shift
	"$CTL" --runtime-dir "$RUNDIR" "$@" >"$T/out" 2>"$T/err"
	_rc=$?
	[ "$_rc" = "$_want" ] && return 0
	fail "ciovctl $*: exit status $_rc, expected $_want"
	show_file "$T/err" stderr
	return 1
}

# out_has REGEX / err_has REGEX / out_lacks REGEX (grep -E)
out_has() {
	grep -q -E -e "$1" "$T/out" && return 0
	fail "stdout has no line matching /$1/"
	show_file "$T/out" stdout
}

out_lacks() {
	grep -q -E -e "$1" "$T/out" || return 0
	fail "stdout has a line matching /$1/"
	show_file "$T/out" stdout
}

err_has() {
	grep -q -E -e "$1" "$T/err" && return 0
	fail "stderr has no line matching /$1/"
	show_file "$T/err" stderr
}

# json_is FILTER EXPECTED: jq -c FILTER of stdout must print EXPECTED
json_is() {
	_got=$(jq -c "$1" "$T/out" 2>&1)
	[ "$_got" = "$2" ] && return 0
	fail "jq '$1' gave '$_got', expected '$2'"
}

# A real ciovd for the test, after ctl_setup: sets CIOVD, RUNDIR, STATE and
# ADMIN_GROUP; start_ciovd and stop_ciovd run and stop it.
ctl_daemon_init() {
	CIOVD=${CIOV_CIOVD:-$B/src/adapter/ciovd}
	[ -x "$CIOVD" ] || skip "no ciovd at $CIOVD"

	RUNDIR=$T/run
	STATE=$T/state
	mkdir -p "$RUNDIR" "$STATE"
	# the admin socket is for root and --admin-group: let a non-root run in
	ADMIN_GROUP=
	[ "$(id -u)" = 0 ] || ADMIN_GROUP="--admin-group $(id -gn)"
	DAEMON=
}

start_ciovd() {
	# shellcheck disable=SC2086 # ADMIN_GROUP is empty or two words
	ctl_spawn "$CIOVD" --runtime-dir "$RUNDIR" --state-dir "$STATE" --foreground \
		$ADMIN_GROUP 2>>"$T/ciovd.log"
	DAEMON=$!
	# a socket left by an earlier ciovd may exist: ready is when it answers
	_i=0
	until wait_socket "$RUNDIR/admin.sock" "$DAEMON" &&
		"$CTL" --runtime-dir "$RUNDIR" adapter show >/dev/null 2>&1; do
		_i=$((_i + 1))
		if [ "$_i" -gt 100 ] || ! kill -0 "$DAEMON" 2>/dev/null; then
			echo "FAIL: ciovd did not start"
			show_file "$T/ciovd.log" ciovd
			exit 1
		fi
		sleep 0.05
	done
}

stop_ciovd() {
	ctl_stop "$DAEMON"
	DAEMON=
}
