#!/bin/bash
# Three hosts on a Linux bridge (bench/netns.sh's netns_bridge3: the bridge
# in a namespace of its own), a ciovd and port p0 in each. A streams to B
# and C at once (xfer: one RC QP per peer, SENDs, WRITEs with immediate and
# WRITEs up to many packets, every message once, in order, verified), then
# B and C stream to A at once (two xfer processes, so A receives from two
# adapters). Each port must have sent and received, with no ICRC or parser
# error.
. "$(dirname "$0")/lib.sh"
XFER=${CIOV_XFER:-$B/tests/fabric/fabric_xfer}
[ -x "$XFER" ] || skip "xfer ($XFER) is not built"
fab_hosts 3

if timeout 120 env "$XFER_ENV" "$XFER" --count 600 "$FAB_TMP/A" "$FAB_TMP/B" "$FAB_TMP/C" >"$FAB_TMP/x1" 2>&1; then
	sed 's/^/A -> /' "$FAB_TMP/x1"
else
	fail "A to B and C: $(tail -5 "$FAB_TMP/x1")"
fi
# Two senders into A at once (separate processes).
timeout 120 env "$XFER_ENV" "$XFER" --count 600 "$FAB_TMP/B" "$FAB_TMP/A" >"$FAB_TMP/x2" 2>&1 &
p2=$!
timeout 120 env "$XFER_ENV" "$XFER" --count 600 "$FAB_TMP/C" "$FAB_TMP/A" >"$FAB_TMP/x3" 2>&1 &
p3=$!
wait $p2 && echo "B -> A: $(tail -1 "$FAB_TMP/x2")" || fail "B to A: $(tail -5 "$FAB_TMP/x2")"
wait $p3 && echo "C -> A: $(tail -1 "$FAB_TMP/x3")" || fail "C to A: $(tail -5 "$FAB_TMP/x3")"
for h in A B C; do
	tx=$(fab_counter $h xmit_pkts) rx=$(fab_counter $h rcv_pkts)
	bad=$(($(fab_counter $h icrc_errors) + $(fab_counter $h rcv_errors)))
	echo "$h: sent $tx packets, received $rx, ICRC/parser errors $bad"
	[ "$tx" -gt 100 ] && [ "$rx" -gt 100 ] || fail "$h's port hardly moved packets"
	[ "$bad" = 0 ] || fail "$h's port dropped bad packets on a clean bridge"
done
for h in A B C; do fab_stop $h; done
exit $FAB_FAILED
