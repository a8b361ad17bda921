#!/bin/bash
# Debian's perftest, unmodified, under ciov-run: server and client as two
# processes on two endpoints of one adapter. Every test runs to completion
# and prints non-zero figures: RC for all eight tools, UD for the send
# tests, -a (all sizes) for the bandwidth tests, the classic post path
# (--use_old_post_send), and event mode (-e) for one bw and one lat test.
# Usage: verbs_perftest.sh BUILD_DIR. Exit 0 pass, 1 fail, 77 skip.
. "$(dirname "$0")/lib.sh"
need_tools ib_write_bw ib_write_lat ib_read_bw ib_read_lat ib_send_bw ib_send_lat ib_atomic_bw ib_atomic_lat
foreign_ok
start_ciovd

# figures FILE KIND: the result line's numbers are present and non-zero
figures() {
	local line
	line=$(awk '/#bytes/ { getline; print; exit }' "$1")
	case $2 in
	bw) # bytes iterations peak avg msgrate
		echo "$line" | awk 'NF >= 5 && $1 > 0 && $2 > 0 && $3 > 0 && $4 > 0 && $5 > 0 { ok = 1 } END { exit !ok }' ;;
	bw_rx) # the receiving side of a send test prints no peak (perftest: 0.00)
		echo "$line" | awk 'NF >= 5 && $1 > 0 && $2 > 0 && $4 > 0 && $5 > 0 { ok = 1 } END { exit !ok }' ;;
	lat) # bytes iterations t_min t_max t_typical t_avg ...
		echo "$line" | awk 'NF >= 6 && $1 > 0 && $2 > 0 && $3 > 0 && $5 > 0 && $6 > 0 { ok = 1 } END { exit !ok }' ;;
	esac
}

# case NAME KIND TOOL ARGS...
case_() {
	local name=$1 kind=$2 before=$FAILED
	shift 2
	if pair 120 "$@" -d ciov0 -x 0; then
		figures "$T/cli.out" $kind || fail "$name: no figures: $(grep -A1 '#bytes' "$T/cli.out" | tail -1)"
		[ "$kind" = lat ] || figures "$T/srv.out" bw_rx ||
			fail "$name: server printed no figures"
	fi
	report "$name" "$before"
}

for t in write read send atomic; do
	case_ "ib_${t}_bw_rc" bw ib_${t}_bw
	case_ "ib_${t}_lat_rc" lat ib_${t}_lat -n 500
done
case_ ib_send_bw_ud bw ib_send_bw -c UD
case_ ib_send_lat_ud lat ib_send_lat -c UD -n 500
for t in write read send; do
	case_ "ib_${t}_bw_all_sizes" bw ib_${t}_bw -a -n 200
done
case_ ib_send_bw_ud_all_sizes bw ib_send_bw -c UD -a -n 200
case_ ib_write_bw_old_post_send bw ib_write_bw --use_old_post_send
case_ ib_send_bw_events bw ib_send_bw -e
case_ ib_send_lat_events lat ib_send_lat -e -n 500
finish
