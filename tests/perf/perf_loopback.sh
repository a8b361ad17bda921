#!/bin/bash
# ciov-perf against a real ciovd, two endpoints on one adapter (loopback):
# every TEST x KIND moves verified data and prints the JSON it promises;
# a test mismatch and a bad command line fail with the documented codes.
# Usage: perf_loopback.sh BUILD_DIR. Exit 0 pass, 1 fail, 77 skip.
set -u
B=${1:-${CIOV_BUILD:-}}
PERF=$B/src/tools/perf/ciov-perf
CTL=$B/src/tools/ciovctl
CIOVD=${CIOV_CIOVD:-$B/src/adapter/ciovd}
for x in "$PERF" "$CTL" "$CIOVD"; do
	[ -x "$x" ] || { echo "SKIP: no $x"; exit 77; }
done
command -v jq >/dev/null || { echo "SKIP: jq is not installed"; exit 77; }

T=$(mktemp -d) || exit 1
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/run" "$T/state"
ADMIN_GROUP=
[ "$(id -u)" = 0 ] || ADMIN_GROUP="--admin-group $(id -gn)"
# shellcheck disable=SC2086
"$CIOVD" --runtime-dir "$T/run" --state-dir "$T/state" --foreground --quiet $ADMIN_GROUP \
	2>"$T/ciovd.log" &
PIDS=$!
for _ in $(seq 100); do
	"$CTL" --runtime-dir "$T/run" endpoint add srv >/dev/null 2>&1 && break
	sleep 0.05
done
"$CTL" --runtime-dir "$T/run" endpoint add cli >/dev/null || { echo "FAIL: no endpoints"; exit 1; }

FAILED=0
# a free port for each run, away from perftest's 18515
PORT=$((20000 + $$ % 20000))
fail() { echo "    FAIL: $*"; FAILED=$((FAILED + 1)); }

# run WANT_CLIENT WANT_SERVER SERVER_ARGS -- CLIENT_ARGS
run() {
	local wc=$1 ws=$2 sargs=() cargs=()
	shift 2
	while [ "$1" != -- ]; do sargs+=("$1"); shift; done
	shift
	cargs=("$@")
	PORT=$((PORT + 1))
	timeout 60 "$PERF" "${sargs[@]}" --runtime-dir "$T/run" --endpoint srv --port $PORT \
		>"$T/srv.out" 2>"$T/srv.err" &
	local sp=$!
	timeout 60 "$PERF" "${cargs[@]}" --runtime-dir "$T/run" --endpoint cli --port $PORT \
		localhost >"$T/out" 2>"$T/err"
	local c=$?
	wait $sp
	local s=$?
	if [ $c != "$wc" ] || [ $s != "$ws" ]; then
		fail "ciov-perf ${cargs[*]}: client $c server $s, expected $wc/$ws"
		sed 's/^/    client: /' "$T/err" | head -5
		sed 's/^/    server: /' "$T/srv.err" | head -5
		return 1
	fi
}

for t in write read send atomic; do
	for k in bw lat; do
		name="${t}_${k}_verified_json"
		before=$FAILED
		if run 0 0 $t $k --json -- $t $k --json --verify --iters 200; then
			case $k in
			bw) keys='.test,.bytes,.iterations,.bw_bytes_per_sec,.msg_per_sec' ;;
			lat) keys='.test,.bytes,.iterations,.t_min_us,.t_typical_us,.t_avg_us,.t_p99_us,.t_max_us,.t_p999_us' ;;
			esac
			got=$(jq -c "[$keys] | map(. != null) | all" "$T/out" 2>&1)
			[ "$got" = true ] || fail "$name: JSON lacks fields: $(head -c 300 "$T/out")"
			[ "$(jq -r .test "$T/out")" = $t ] || fail "$name: test is not $t"
			[ "$(jq -r .iterations "$T/out")" = 200 ] || fail "$name: iterations"
		fi
		[ $FAILED = "$before" ] && echo "ok - $name" || echo "not ok - $name"
	done
done

before=$FAILED
run 0 0 write bw -- write bw --qps 4 --tx-depth 32 --size 4K --event --iters 500 --json &&
	[ "$(jq -r .qps "$T/out")" = 4 ] || fail "qps 4"
[ $FAILED = "$before" ] && echo "ok - write_bw_four_qps_event" || echo "not ok - write_bw_four_qps_event"

before=$FAILED
run 0 0 send lat -- send lat --duration 1 --json &&
	[ "$(jq -r '.iterations > 10' "$T/out")" = true ] || fail "duration: $(cat "$T/out")"
[ $FAILED = "$before" ] && echo "ok - send_lat_duration" || echo "not ok - send_lat_duration"

before=$FAILED
run 1 1 read bw -- write bw --iters 10 && grep -q 'test mismatch' "$T/err" ||
	fail "mismatch not reported"
[ $FAILED = "$before" ] && echo "ok - test_mismatch_exits_1" || echo "not ok - test_mismatch_exits_1"

before=$FAILED
"$PERF" write bw --bogus >/dev/null 2>&1
[ $? = 2 ] || fail "bad option did not exit 2"
"$PERF" write bw --endpoint x --runtime-dir "$T/nowhere" --port 1 localhost >/dev/null 2>"$T/err"
[ $? = 1 ] && grep -q 'is ciovd running' "$T/err" || fail "no adapter did not exit 1 with a hint"
[ $FAILED = "$before" ] && echo "ok - exit_codes" || echo "not ok - exit_codes"

[ $FAILED = 0 ] && { echo PASS; exit 0; }
echo "FAIL: $FAILED check(s)"
exit 1
