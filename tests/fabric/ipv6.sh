#!/bin/bash
# The fabric over IPv6 with the tenant tool: two hosts (veth), each ciovd's
# ONLY port on an IPv6 address (an endpoint's GID is its adapter's first
# port's GID, so a v4 port first would make the tenants speak v4), named p0
# so lib.sh's helpers apply. ciov-perf WRITE, READ, SEND (bw, multi-packet)
# and atomics across with --verify; the port's GID is the address itself;
# tcpdump on A's veth (UDP segmentation offload off on both veths, so each
# packet is seen as on the wire) and icrc_check.py (roce.py, no ciovd code)
# recomputes every IPv6 ICRC; changing the masked fields (traffic class,
# flow label, hop limit) must keep it right, changing the source address
# must break it.
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
netns_available 2>/dev/null || skip "network namespaces need root and iproute2"
[ -x "$CTL" ] && [ -x "$PERF" ] || skip "ciovctl or ciov-perf not built"
netns_on_exit fab_cleanup
netns_pair >/dev/null || skip "cannot build the veth fixture"
IP_A=fd00:c10f::1 IP_B=fd00:c10f::2
for h in A B; do
	eval "ns=\$NS_$h dev=\$DEV_$h ip=\$IP_$h"
	ip -n "$ns" addr add "$ip/64" dev "$dev" nodad || skip "cannot add an IPv6 address (IPv6 disabled?)"
done

# fab_start (lib.sh) reads IP_A / IP_B: each ciovd's only port is IPv6.
for h in A B; do
	fab_start $h || { cat "$FAB_TMP/$h.log"; echo "FAIL: ciovd/IPv6 port on $h"; exit 1; }
	read -r fam gid < <(fab_ctl $h port show p0 -j | jq -r '.[0] | "\(.family) \(.gids[0].gid)"')
	eval "ip=\$IP_$h"
	echo "$h: port p0 family $fam, GID $gid"
	[ "$fam" = inet6 ] && [ "$gid" = "$ip" ] || fail "$h's port: family $fam GID $gid, want inet6 $ip"
done

tpid=
if command -v tcpdump >/dev/null && command -v ethtool >/dev/null &&
	ip netns exec "$NS_A" ethtool -K "$DEV_A" tx-udp-segmentation off >/dev/null 2>&1 &&
	ip netns exec "$NS_B" ethtool -K "$DEV_B" tx-udp-segmentation off >/dev/null 2>&1; then
	pcap=$FAB_TMP/v6.pcap
	# -Z root: tcpdump drops to its own user, which may not write in FAB_TMP.
	ip netns exec "$NS_A" tcpdump -Z root -i "$DEV_A" -U -s 0 -w "$pcap" ip6 and udp port 4791 \
		2>"$FAB_TMP/tcpdump.log" &
	tpid=$!
	for _ in $(seq 100); do grep -q listening "$FAB_TMP/tcpdump.log" && break; sleep 0.05; done
else
	echo "tcpdump or ethtool missing, or offload cannot be turned off: the IPv6 ICRC is not recomputed"
fi

fab_run "write bw 65536" write bw --size 65536 --iters 40
fab_run "read bw 65536" read bw --size 65536 --iters 40
fab_run "send bw 3077" send bw --size 3077 --iters 100
fab_run "atomic bw" atomic bw --iters 200
fab_run "write lat 8" write lat --size 8 --iters 200
fab_run "read lat 8" read lat --size 8 --iters 200

if [ -n "$tpid" ]; then
	sleep 1.5 # tcpdump hands over a ring block when full or after 1 s
	kill -INT $tpid
	wait $tpid
	python3 "$HERE/icrc_check.py" --min 500 "$pcap" >"$FAB_TMP/icrc" 2>&1 ||
		fail "IPv6 ICRC check: $(tail -12 "$FAB_TMP/icrc")"
	tail -1 "$FAB_TMP/icrc"
	# The masking, IPv6 style: a router may change traffic class, flow
	# label and hop limit (ICRC still right); not the source address.
	python3 - "$pcap" "$FAB_TMP/masked.pcap" "$FAB_TMP/src.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
m, s = bytearray(d), bytearray(d)
off = 24
while off + 16 <= len(d):
    caplen = struct.unpack("<I", d[off + 8:off + 12])[0]
    ip = off + 16 + 14                    # Ethernet, no VLAN on veth
    m[ip] ^= 0x0F; m[ip + 1] ^= 0xA5; m[ip + 3] ^= 0x5A; m[ip + 7] ^= 0x3F
    s[ip + 23] ^= 0x01                    # last byte of the source address
    off += 16 + caplen
open(sys.argv[2], "wb").write(m)
open(sys.argv[3], "wb").write(s)
PY
	python3 "$HERE/icrc_check.py" --min 500 "$FAB_TMP/masked.pcap" >"$FAB_TMP/icrc_m" 2>&1 ||
		fail "changing masked IPv6 fields broke the ICRC: $(tail -3 "$FAB_TMP/icrc_m")"
	n=$(sed -n 's/^icrc_check: \([0-9]*\) RoCEv2 packets, \([0-9]*\) ICRC mismatches.*/\1 \2/p' \
		<(python3 "$HERE/icrc_check.py" "$FAB_TMP/src.pcap"))
	echo "masked fields changed: $(grep -o '[0-9]* ICRC mismatches' "$FAB_TMP/icrc_m"); source address changed: ${n#* } of ${n% *} mismatch"
	[ -n "$n" ] && [ "${n#* }" = "${n% *}" ] || fail "a changed source address kept its ICRC ($n)"
	for op in RC_WRITE_MIDDLE RC_READ_RESPONSE_MIDDLE RC_SEND_FIRST RC_FETCH_ADD; do
		grep -q "$op" "$FAB_TMP/icrc" || fail "no $op in the IPv6 capture"
	done
fi
for h in A B; do
	echo "$h: rcv_pkts $(fab_counter $h rcv_pkts), xmit_pkts $(fab_counter $h xmit_pkts)," \
		"icrc_errors $(fab_counter $h icrc_errors), rcv_errors $(fab_counter $h rcv_errors)"
	[ "$(fab_counter $h icrc_errors)" = 0 ] && [ "$(fab_counter $h rcv_errors)" = 0 ] ||
		fail "$h dropped packets on a clean IPv6 link"
	[ "$(fab_counter $h rcv_pkts)" -gt 500 ] || fail "$h received almost nothing"
done
for h in A B; do fab_stop $h; done
exit $FAB_FAILED
