#!/bin/bash
# Debian's ibv_rc_pingpong, ibv_ud_pingpong and ibv_srq_pingpong, unmodified,
# server and client as two processes on two endpoints, with their own
# buffer validation (-c), polling and event (-e) mode.
# Usage: verbs_pingpong.sh BUILD_DIR. Exit 0 pass, 1 fail, 77 skip.
. "$(dirname "$0")/lib.sh"
need_tools ibv_rc_pingpong ibv_ud_pingpong ibv_srq_pingpong
foreign_ok
start_ciovd

for tool in ibv_rc_pingpong ibv_ud_pingpong ibv_srq_pingpong; do
	for mode in poll event; do
		before=$FAILED
		ev=()
		[ $mode = event ] && ev=(-e)
		if pair 60 $tool -d ciov0 -g 0 -c -n 500 "${ev[@]}"; then
			for f in "$T/srv.out" "$T/cli.out"; do
				it=$(awk '/iters in/ { print $1 }' "$f")
				us=$(awk '/usec\/iter/ { print $(NF-1) }' "$f")
				[ "$it" = 500 ] || fail "$tool $mode: iterations '$it'"
				awk -v u="$us" 'BEGIN { exit !(u > 0) }' || fail "$tool $mode: usec/iter '$us'"
			done
		fi
		report "${tool}_${mode}_validated" "$before"
	done
done
# Across hosts, a long event-mode run: a completion published while the
# tenant re-arms its CQ must reach it by poll or by event (a lost one left
# both sides asleep, in 3 of 4 such runs before cq_post's fence).
if [ -n "${CIOV_VERBS_FABRIC:-}" ]; then
	before=$FAILED
	pair 120 ibv_rc_pingpong -d ciov0 -g 0 -n 20000 -e &&
		for f in "$T/srv.out" "$T/cli.out"; do
			it=$(awk '/iters in/ { print $1 }' "$f")
			[ "$it" = 20000 ] || fail "ibv_rc_pingpong event 20000: iterations '$it'"
		done
	report ibv_rc_pingpong_event_20000 "$before"
fi
finish
