#!/bin/bash
# Loss: nftables drops 1%, 5% and 20% of RoCE packets in each direction
# (netdev ingress of each host's veth: AF_PACKET sees packets before the IP
# stack's hooks). Numbered SENDs, WRITEs with immediate and WRITEs of sizes
# from 1 byte to many packets must each arrive exactly once, in order,
# byte for byte (xfer); ciov-perf's operations must complete with their
# data verified; the retransmit / NAK counters must move. Then a peer that
# vanishes, twice: its ciovd killed (xfer times the RETRY_EXC_ERR), and its
# ciovd killed and its namespace deleted mid-transfer (ciov-perf): the
# requester's QP completes RETRY_EXC_ERR within timeout x (retry_cnt + 1).
. "$(dirname "$0")/lib.sh"
command -v nft >/dev/null || skip "nft is not installed"
XFER=${CIOV_XFER:-$B/tests/fabric/fabric_xfer}
[ -x "$XFER" ] || skip "xfer ($XFER) is not built"
fab_hosts 2

drop() { # drop PERCENT: on both hosts' ingress (0: none)
	local h ns dev
	for h in A B; do
		eval "ns=\$NS_$h dev=\$DEV_$h"
		ip netns exec "$ns" nft delete table netdev ciovloss 2>/dev/null
		[ "$1" = 0 ] && continue
		ip netns exec "$ns" nft -f - <<NFT || return 1
table netdev ciovloss {
	chain in {
		type filter hook ingress device "$dev" priority 0;
		ip protocol udp udp dport 4791 numgen random mod 100 < $1 drop
	}
}
NFT
	done
}

run() { # run DESC ARGS...
	local desc=$1 out=$FAB_TMP/out
	shift
	if fab_perf B A "$out" "$@" --verify; then
		echo "ok: $desc"
	else
		fail "$desc: $(tail -n 3 "$out" "$out.server" | tr '\n' ' ')"
	fi
}

for p in 1 5 20; do
	drop $p || skip "nft cannot add a netdev ingress rule here"
	r0=$(fab_counter A retransmits)
	n0=$(($(fab_counter A naks_rcvd) + $(fab_counter A timeouts)))
	if [ $p = 20 ]; then n=30 big=16384; else n=200 big=65536; fi
	if [ $p = 20 ]; then xs=1,100,1023,1024,1025,3077,16384 xn=150; else xs=1,100,1023,1024,1025,3077,16384,65536,262144 xn=450; fi
	if out=$(timeout 120 env "$XFER_ENV" "$XFER" --count $xn --sizes $xs "$FAB_TMP/A" "$FAB_TMP/B" 2>&1); then
		echo "ok: $p% xfer: $(echo "$out" | tail -1)"
	else
		fail "$p% xfer: $out"
	fi
	run "$p% write bw $big" write bw --size $big --iters $n
	run "$p% send bw 3000" send bw --size 3000 --iters $n
	run "$p% read bw $big" read bw --size $big --iters $((n / 2))
	run "$p% atomic bw" atomic bw --iters $n
	run "$p% write lat" write lat --size 8 --iters $n
	r1=$(fab_counter A retransmits)
	n1=$(($(fab_counter A naks_rcvd) + $(fab_counter A timeouts)))
	echo "$p%: retransmits $r0 -> $r1, NAKs+timeouts $n0 -> $n1, B dropped duplicates: $(fab_counter B dup_rcvd)"
	[ "$r1" -gt "$r0" ] || fail "$p%: no retransmission counted"
	[ "$n1" -gt "$n0" ] || fail "$p%: neither NAK nor timeout counted"
done
drop 0
[ "$(fab_counter B naks_sent)" -gt 0 ] || fail "B never sent a NAK"

# The peer vanishes: its ciovd is killed (the namespace and its kernel stay).
# xfer's QP: timeout 12 (16.8 ms), retry_cnt 3: RETRY_EXC_ERR after ~67 ms.
coproc XF { exec env "$XFER_ENV" "$XFER" --count 60 --timeout 12 --retry 3 --vanish "$FAB_TMP/A" "$FAB_TMP/B" 2>&1; }
xpid=$XF_PID
while read -r -u "${XF[0]}" line; do
	echo "xfer: $line"
	[ "$line" = READY ] && break
done
if [ "$line" = READY ]; then
	kill -9 "$(cat "$FAB_TMP/B.pid")"
	wait "$(cat "$FAB_TMP/B.pid")" 2>/dev/null
	kill -USR1 "$xpid"
	while read -r -u "${XF[0]}" line; do echo "xfer: $line"; done
fi
wait "$xpid" || fail "xfer: the killed peer's QP did not complete RETRY_EXC_ERR in time"
# B comes back on its state (port p0 and endpoint e are saved there).
ip netns exec "$NS_B" "$CIOVD" --runtime-dir "$FAB_TMP/B" --state-dir "$FAB_TMP/B" \
	--foreground --quiet 2>>"$FAB_TMP/B.log" &
echo $! >"$FAB_TMP/B.pid"
for _ in $(seq 200); do fab_ctl B port show p0 -j >/dev/null 2>&1 && break; sleep 0.05; done
[ "$(fab_ctl B port show p0 -j | jq -r '.[0].state')" = ACTIVE ] || fail "B's port did not come back"

# The peer vanishes with its namespace. ciov-perf's QPs: timeout 14 (67 ms), retry_cnt 7.
out=$FAB_TMP/vanish
ip netns exec "$NS_B" "$PERF" write bw --endpoint e --runtime-dir "$FAB_TMP/B" --port 18599 \
	>/dev/null 2>&1 &
spid=$!
sleep 0.3
ip netns exec "$NS_A" "$PERF" write bw --endpoint e --runtime-dir "$FAB_TMP/A" --port 18599 \
	--duration 30 "$IP_B" >"$out" 2>&1 &
cpid=$!
sleep 1
kill -9 "$(cat "$FAB_TMP/B.pid")" 2>/dev/null
wait "$(cat "$FAB_TMP/B.pid")" 2>/dev/null
rm -f "$FAB_TMP/B.pid"
kill $spid 2>/dev/null
ip netns del "$NS_B" # the host is gone: its namespace, veth end and all
t0=$(date +%s%N)
wait $cpid
t1=$(date +%s%N)
kill $spid 2>/dev/null
ms=$(((t1 - t0) / 1000000))
grep -q RETRY_EXC_ERR "$out" || fail "no RETRY_EXC_ERR after the peer vanished: $(tail -2 "$out")"
echo "peer vanished: RETRY_EXC_ERR after $ms ms (limit 67 ms x 8 = 537 ms, plus slack)"
[ $ms -lt 3000 ] || fail "RETRY_EXC_ERR took $ms ms"
fab_stop A
exit $FAB_FAILED
