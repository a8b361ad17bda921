#!/bin/bash
# The fabric port against the kernel's own paths between the same two
# "hosts" (two network namespaces joined by a veth pair, MTU 1500), all
# measured in this run (JSON lines on stdout, diagnostics on stderr):
#  - RDMA WRITE bandwidth at 64 KiB and 1 MiB (path MTU 1024), the tenant
#    polling its CQ and sleeping on a completion channel, as a ratio to
#    TCP (iperf3, one stream) and to the kernel's best UDP path with the
#    same payload per packet: UDP GSO sends of 64 KiB into a UDP_GRO socket,
#    1040-byte datagrams (a RoCE WRITE_MIDDLE at PMTU 1024: BTH 12 + 1024 +
#    ICRC 4); and to the wire's floor (bench-wire-floor): the adapter's
#    own road, AF_PACKET UDP GSO frames with a CRC computed and checked
#    over every segment, but no transport at all, what any RoCEv2
#    transport on that road pays at least (where TCP is above the floor,
#    1.0x TCP is out of reach);
#  - 8-byte RDMA WRITE latency (p50) as a ratio to the half round trip of an
#    8-byte UDP ping-pong, blocking (the kernel's path) and spinning on
#    MSG_DONTWAIT (the fair peer of a polling adapter).
# Every figure is the median of three runs. The ciov side needs ciovd, a
# `ciovctl port` command and ciov-perf; without them it prints a
# {"bench":"fabric","skipped":...} line and the peers alone.
# Needs root (namespaces), iperf3 and jq; skips (one JSON line) without.
# FABRIC_SECONDS (default 3): length of each bandwidth run.
set -uo pipefail
B=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
BL=$B/bench/baseline
PERF=$B/src/tools/perf/ciov-perf
CTL=$B/src/tools/ciovctl
CIOVD=$B/src/adapter/ciovd
SECS=${FABRIC_SECONDS:-3}
MTU=1500
PMTU=1024
PAYLOAD=1040

skip() { jq -nc --arg b "$1" --arg why "$2" '{bench:$b, skipped:$why}'; }
note() { echo "fabric: $*" >&2; }
# median3 KEY: the middle (by KEY) of the JSON lines on stdin, whole line.
median3() { jq -s -c "map(select(.$1 != null)) | sort_by(.$1) | if length > 0 then .[(length - 1) / 2 | floor] else empty end"; }

command -v jq >/dev/null || {
	echo '{"bench":"fabric","skipped":"jq is not installed"}'
	exit 0
}
# shellcheck source=bench/netns.sh
. "$here/netns.sh"
why=$(netns_available 2>&1) || {
	skip fabric "no network namespaces: $why"
	exit 0
}
netns_pair $MTU || {
	skip fabric "could not build the two-namespace veth fixture"
	exit 0
}
note "namespaces $NS_A ($IP_A) and $NS_B ($IP_B), veth MTU $MTU"
# Ports: every server gets fresh ones (runs happen in subshells, so the
# counter lives in a file).
portfile=$(mktemp /tmp/ciov-fabric-port.XXXXXX)
netns_on_exit "rm -f $portfile"
echo 19900 >"$portfile"
nextport() {
	port=$(($(cat "$portfile") + 2))
	echo $port >"$portfile"
}
# listening NS PORT [tcp|udp]: until something listens on PORT in NS (5 s).
listening() {
	local flag=-Htln
	[ "${3:-tcp}" = udp ] && flag=-Huln
	for _ in $(seq 100); do
		[ -n "$(nsx "$1" ss $flag "sport = :$2" 2>/dev/null)" ] && return 0
		sleep 0.05
	done
	return 1
}

# ---- TCP: iperf3, one stream ------------------------------------------
iperf_once() {
	nextport
	nsx "$NS_B" iperf3 -s -1 -B "$IP_B" -p $port >/dev/null 2>&1 &
	local s=$!
	listening "$NS_B" $port || note "iperf3 server did not start"
	nsx "$NS_A" iperf3 -c "$IP_B" -p $port -P 1 -t "$SECS" -J 2>/dev/null |
		jq -c --argjson mtu $MTU 'select(.end.sum_received != null) |
			{bench:"fabric_iperf3", streams:1, mtu:$mtu, seconds:.end.sum_received.seconds,
			 gbit_per_s:(.end.sum_received.bits_per_second / 1e9),
			 sender_gbit_per_s:(.end.sum_sent.bits_per_second / 1e9),
			 retransmits:.end.sum_sent.retransmits}'
	wait $s 2>/dev/null
}
iperf3=
if command -v iperf3 >/dev/null; then
	iperf3=$(for _ in 1 2 3; do iperf_once; done | median3 gbit_per_s)
	if [ -n "$iperf3" ]; then echo "$iperf3"; else skip fabric_iperf3 "iperf3 runs failed"; fi
else
	skip fabric_iperf3 "iperf3 is not installed (make deps)"
fi
tcp_gbps=$(echo "${iperf3:-null}" | jq '.gbit_per_s // null')

# ---- UDP GSO -> GRO, 1040-byte datagrams ------------------------------
gso_once() {
	nextport
	nsx "$NS_B" "$BL/bench-udp-gso-pair" --server --bind "$IP_B" --port $port "$@" >/dev/null &
	local s=$!
	nsx "$NS_A" "$BL/bench-udp-gso-pair" --client "$IP_B" --port $port --seconds "$SECS" \
		--payload $PAYLOAD --json "$@"
	wait $s 2>/dev/null
}
udp_gso=
if [ -x "$BL/bench-udp-gso-pair" ]; then
	udp_gso=$(for _ in 1 2 3; do gso_once; done | median3 rx_gbit_per_s)
	if [ -n "$udp_gso" ]; then
		echo "$udp_gso" | jq -c '.bench = "fabric_udp_gso"'
	else
		skip fabric_udp_gso "bench-udp-gso-pair failed"
	fi
	# For scale, once: the same datagrams without GSO/GRO (sendmmsg/recvmmsg).
	gso_once --no-gso --no-gro | jq -c '.bench = "fabric_udp_plain"'
else
	skip fabric_udp_gso "bench-udp-gso-pair is not built"
fi

# ---- the wire's floor: AF_PACKET GSO + ICRC, no transport -------------
FLOOR=$B/bench/bench-wire-floor
floor_once() {
	nextport
	nsx "$NS_B" "$FLOOR" --server --bind "$IP_B" --port $port >/dev/null &
	local s=$!
	nsx "$NS_A" "$FLOOR" --client "$IP_B" --port $port --seconds "$SECS" --payload $PAYLOAD --json
	wait $s 2>/dev/null
}
floor=
if [ -x "$FLOOR" ]; then
	floor=$(for _ in 1 2 3; do floor_once; done | median3 rx_gbit_per_s)
	if [ -n "$floor" ]; then
		echo "$floor" | jq -c --argjson tcp "$tcp_gbps" '.bench = "fabric_wire_floor" |
			.ratio_to_iperf3 = (if $tcp then .rx_gbit_per_s / $tcp else null end)'
	else
		skip fabric_wire_floor "bench-wire-floor failed"
	fi
else
	skip fabric_wire_floor "bench-wire-floor is not built"
fi

# ---- UDP ping-pong, 8 bytes, blocking and spinning --------------------
pp_once() {
	nextport
	nsx "$NS_B" "$BL/bench-udp-pingpong" --server --bind "$IP_B" --port $port &
	local s=$!
	nsx "$NS_A" "$BL/bench-udp-pingpong" --client "$IP_B" --port $port --iters 20000 --json
	wait $s 2>/dev/null
}
pp_block='' pp_spin=''
if [ -x "$BL/bench-udp-pingpong" ]; then
	pp=$(for _ in 1 2 3; do pp_once; done)
	pp_block=$(echo "$pp" | jq -c 'select(.mode == "blocking")' | median3 half_rtt_p50_us)
	pp_spin=$(echo "$pp" | jq -c 'select(.mode == "spin")' | median3 half_rtt_p50_us)
	for r in "$pp_block" "$pp_spin"; do
		[ -n "$r" ] && echo "$r" | jq -c '.bench = "fabric_udp_pingpong"'
	done
	[ -n "$pp_block$pp_spin" ] || skip fabric_udp_pingpong "bench-udp-pingpong failed"
else
	skip fabric_udp_pingpong "bench-udp-pingpong is not built"
fi

# ---- ciov: one adapter per namespace, a port each, ciov-perf across ---
ciov_why=
if [ ! -x "$CIOVD" ]; then
	ciov_why="ciovd is not built"
elif [ ! -x "$PERF" ] || [ ! -x "$CTL" ]; then
	ciov_why="ciov-perf or ciovctl is not built"
elif ! "$CTL" help port >/dev/null 2>&1; then
	ciov_why="ciovctl has no 'port' command (the fabric port is not built yet)"
fi
if [ -n "$ciov_why" ]; then
	skip fabric "$ciov_why"
	exit 0
fi

ADAPTER_PIDS='' ADAPTER_DIRS=''
fabric_cleanup() {
	local p
	for p in $ADAPTER_PIDS; do kill "$p" 2>/dev/null; done
	for p in $ADAPTER_PIDS; do wait "$p" 2>/dev/null; done
	# shellcheck disable=SC2086 # a list of mktemp paths
	[ -n "$ADAPTER_DIRS" ] && rm -rf $ADAPTER_DIRS
}
netns_on_exit fabric_cleanup
errlog=$(mktemp /tmp/ciov-fabric-err.XXXXXX)
ADAPTER_DIRS=$errlog

# adapter NS IP ENDPOINT: a ciovd in NS with port p0 at IP (path MTU 1024)
# and one endpoint; its runtime directory in $rt.
adapter() {
	local st
	rt=$(mktemp -d /tmp/ciov-fabric-rt.XXXXXX)
	st=$(mktemp -d /tmp/ciov-fabric-st.XXXXXX)
	ADAPTER_DIRS="$ADAPTER_DIRS $rt $st"
	nsx "$1" "$CIOVD" --runtime-dir "$rt" --state-dir "$st" --foreground --quiet 2>>"$errlog" &
	ADAPTER_PIDS="$ADAPTER_PIDS $!"
	for _ in $(seq 200); do [ -S "$rt/admin.sock" ] && break; sleep 0.05; done
	[ -S "$rt/admin.sock" ] || return 1
	nsx "$1" "$CTL" --runtime-dir "$rt" port add p0 addr "$2" mtu $PMTU >/dev/null 2>>"$errlog" &&
		nsx "$1" "$CTL" --runtime-dir "$rt" endpoint add "$3" >/dev/null 2>>"$errlog"
}
if ! { adapter "$NS_A" "$IP_A" client && rt_a=$rt && adapter "$NS_B" "$IP_B" server && rt_b=$rt; }; then
	skip fabric "could not start ciovd with a port in each namespace: $(tail -n 3 "$errlog" | tr '\n' ' ')"
	exit 0
fi

# cperf TEST KIND ARGS...: ciov-perf server in B, client in A naming B's
# address; the client's JSON line out.
cperf() {
	nextport
	nsx "$NS_B" timeout 120 "$PERF" "$@" --runtime-dir "$rt_b" --endpoint server --mtu $PMTU \
		--port $port >/dev/null 2>>"$errlog" &
	local s=$!
	listening "$NS_B" $port || note "ciov-perf server did not listen on $port"
	nsx "$NS_A" timeout 120 "$PERF" "$@" --runtime-dir "$rt_a" --endpoint client --mtu $PMTU \
		--port $port --json "$IP_B" 2>>"$errlog" | tail -n 1
	wait $s 2>/dev/null
}

gso_gbps=$(echo "${udp_gso:-null}" | jq '.rx_gbit_per_s // null')
floor_gbps=$(echo "${floor:-null}" | jq '.rx_gbit_per_s // null')
# Two ways for the tenant to wait: polling its CQ (ciov-perf's default,
# yielding on an empty poll: on two cores it takes CPU from the adapters)
# and sleeping on a completion channel (--event), as iperf3 sleeps in its
# socket.
for mode in poll event; do
for size in 65536 1048576; do
	ev=
	[ $mode = event ] && ev=--event
	# shellcheck disable=SC2086 # $ev is empty or one option
	r=$(for _ in 1 2 3; do cperf write bw --size $size --duration "$SECS" $ev; done | median3 bw_bytes_per_sec)
	if [ -z "$r" ]; then
		skip fabric_bw "ciov-perf write bw --size $size $ev failed: $(tail -n 2 "$errlog" | tr '\n' ' ')"
		continue
	fi
	echo "$r" | jq -c --argjson tcp "$tcp_gbps" --argjson udp "$gso_gbps" \
		--argjson floor "$floor_gbps" --argjson pmtu $PMTU --arg wait $mode \
		'(.bw_bytes_per_sec * 8 / 1e9) as $g |
		 {bench:"fabric_bw", test, bytes, wait:$wait, path_mtu:$pmtu, bw_gbit_per_s:$g,
		  iperf3_gbit_per_s:$tcp, udp_gso_gbit_per_s:$udp, wire_floor_gbit_per_s:$floor,
		  ratio_to_iperf3:(if $tcp then $g / $tcp else null end),
		  ratio_to_udp_gso:(if $udp then $g / $udp else null end),
		  ratio_to_wire_floor:(if $floor then $g / $floor else null end)}'
done
done

b50=$(echo "${pp_block:-null}" | jq '.half_rtt_p50_us // null')
s50=$(echo "${pp_spin:-null}" | jq '.half_rtt_p50_us // null')
# All three runs' p50 are reported too: the figure moves between runs with
# where the kernel puts two engines and two tenants on two cores.
runs=$(for _ in 1 2 3; do cperf write lat --size 8 --iters 20000; done)
r=$(echo "$runs" | median3 t_typical_us)
all=$(echo "$runs" | jq -s -c 'map(select(.t_typical_us != null) | .t_typical_us)')
if [ -z "$r" ]; then
	skip fabric_lat "ciov-perf write lat --size 8 failed: $(tail -n 2 "$errlog" | tr '\n' ' ')"
else
	echo "$r" | jq -c --argjson b "$b50" --argjson s "$s50" --argjson all "$all" \
		'{bench:"fabric_lat", test, bytes, t_typical_us, t_p99_us, runs_t_typical_us:$all,
		  udp_blocking_half_rtt_p50_us:$b, udp_spin_half_rtt_p50_us:$s,
		  ratio_p50_to_udp_blocking:(if $b then .t_typical_us / $b else null end),
		  ratio_p50_to_udp_spin:(if $s then .t_typical_us / $s else null end)}'
fi
