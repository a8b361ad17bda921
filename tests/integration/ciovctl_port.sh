#!/bin/bash
# ciovctl port against a real ciovd in its own network namespace: ports on
# IPv4 and IPv6 addresses of a veth, show (text and -j: GID, MTU, state),
# refusals that change nothing, a restart that brings the ports back (and a
# port whose address is gone comes back DOWN, then ACTIVE once the address
# is there again), captures (count, duration, a client that hangs up, a
# port deleted mid-capture, requests queued behind a capture), del.
# Usage: ciovctl_port.sh BUILD_DIR. Exit 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/ciovctl_lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, AF_PACKET)"
command -v ip >/dev/null 2>&1 || skip "no ip (iproute2)"
command -v python3 >/dev/null 2>&1 || skip "no python3 (the traffic generator)"

ctl_setup "${1:-}"
ctl_daemon_init

# Two "hosts": ciovd's namespace NS (veth end A: 10.N.M.1, fdNN::1) and a
# peer namespace PEER (end B: 10.N.M.2, fdNN::2) that sends traffic.
ID=$$
NS=ciovp$ID
PEER=ciovq$ID
VA=cvpa$ID
VB=cvpb$ID
O2=$((ID % 250 + 1))
O3=$((ID / 250 % 250 + 1))
IP4=10.$O2.$O3.1
IP4_PEER=10.$O2.$O3.2
IP6=fd$(printf %02x $((ID % 256)))::1
IP6_PEER=${IP6%1}2
GID4="::ffff:$IP4"

net_cleanup() {
	ip netns del "$NS" 2>/dev/null
	ip netns del "$PEER" 2>/dev/null
}
cleanup_all() {
	ctl_cleanup
	net_cleanup
}
trap cleanup_all EXIT

ip netns add "$NS" && ip netns add "$PEER" || skip "cannot create network namespaces"
ip link add "$VA" netns "$NS" type veth peer name "$VB" netns "$PEER" ||
	skip "cannot create a veth pair"
ip -n "$NS" link set lo up
ip -n "$NS" link set "$VA" mtu 1500 up
ip -n "$NS" addr add "$IP4/24" dev "$VA"
ip -n "$NS" addr add "$IP6/64" dev "$VA" nodad
ip -n "$PEER" link set lo up
ip -n "$PEER" link set "$VB" up
ip -n "$PEER" addr add "$IP4_PEER/24" dev "$VB"
ip -n "$PEER" addr add "$IP6_PEER/64" dev "$VB" nodad

# ciovd runs in NS; ciovctl reaches it through the admin socket's path.
REAL_CIOVD=$CIOVD
CIOVD=$T/ciovd-in-ns
printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$NS" "$REAL_CIOVD" >"$CIOVD"
chmod +x "$CIOVD"

# traffic START|STOP: UDP datagrams to RoCEv2's port on IP4 from PEER,
# 200 a second, until stopped (RoCE-looking: a BTH and a payload).
TRAFFIC=
traffic() {
	if [ "$1" = stop ]; then
		[ -n "$TRAFFIC" ] && ctl_stop "$TRAFFIC"
		TRAFFIC=
		return
	fi
	ctl_spawn ip netns exec "$PEER" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
bth = bytes([0x04, 0, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 0])  # SEND only, QP 1
while True:
    s.sendto(bth + bytes(64) + bytes(4), (sys.argv[1], 4791))
    time.sleep(0.005)
' "$IP4"
	TRAFFIC=$!
}

# pcap_count FILE: the packets in a pcap file
pcap_count() {
	python3 - "$1" <<'EOF'
import struct, sys
d = open(sys.argv[1], 'rb').read()
assert d[:4] in (b'\xd4\xc3\xb2\xa1', b'\xa1\xb2\xc3\xd4', b'\x4d\x3c\xb2\xa1', b'\xa1\xb2\x3c\x4d'), 'not a pcap file'
e = '<' if d[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
o, n = 24, 0
while o + 16 <= len(d):
    o += 16 + struct.unpack(e + 'I', d[o + 8:o + 12])[0]
    n += 1
print(n)
EOF
}

# raw JSON-LINES...: send the lines on one connection, print the replies
raw() {
	python3 - "$RUNDIR/admin.sock" "$@" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(''.join(l + '\n' for l in sys.argv[2:]).encode())
f = s.makefile()
for _ in sys.argv[2:]:
    sys.stdout.write(f.readline())
EOF
}

# json_all_is FILTER EXPECTED: as json_is, over the replies of raw (jq -s)
json_all_is() {
	_got=$(jq -s -c "$1" "$T/out" 2>&1)
	[ "$_got" = "$2" ] && return 0
	fail "jq -s '$1' gave '$_got', expected '$2'"
}

# names: the ports' names, in the order shown, into $T/out (for json_is)
names() {
	run 0 port show -j && jq -c 'map(.name)' "$T/out" >"$T/names" && mv "$T/names" "$T/out"
}

add_v4_and_v6_ports() {
	run 0 port add p4 addr "$IP4" || return
	run 0 port add p6 addr "$IP6" udp 4791 mtu 4096 -j || return
	json_is '[.name, .addr, .family, .udp, .mtu_cfg]' "[\"p6\",\"$IP6\",\"inet6\",4791,4096]"
}

show_json_has_gid_mtu_state() {
	run 0 port show -j || return
	json_is 'map(.name)' '["p4","p6"]'
	json_is '.[0] | [.addr, .family, .udp, .state, .ifname, .mtu, .mtu_cfg]' \
		"[\"$IP4\",\"inet\",4791,\"ACTIVE\",\"$VA\",1024,0]"
	json_is '.[0].gids' "[{\"index\":0,\"gid\":\"$GID4\",\"type\":\"RoCEv2\"}]"
	json_is '.[1] | [.state, .mtu, .gids[0].gid]' "[\"ACTIVE\",1024,\"$IP6\"]"
	json_is '.[0].ifindex > 0' 'true'
	json_is '.[0].mac | test("^([0-9a-f]{2}:){5}[0-9a-f]{2}$")' 'true'
	json_is '.[0].counters | has("rcv_pkts") and has("xmit_pkts") and has("icrc_errors") and has("timeouts")' 'true'
	json_is '[.[0].counters[]] | all(type == "number")' 'true'
}

show_text_is_one_block_per_port() {
	run 0 port show p4 || return
	out_has "^p4  state ACTIVE  addr $IP4  udp 4791  mtu 1024  netdev $VA  mac "
	out_has "^    gid 0  $GID4  RoCEv2$"
	out_has '^    counters  xmit_data 0 '
	[ "$(grep -c '^[^ ]' "$T/out")" = 1 ] || fail "expected one block"
}

bad_inputs_are_refused_and_change_nothing() {
	local before
	before=$(cat "$STATE/state.json")
	run 1 port add p4 addr "$IP4" && err_has 'p4 already exists'
	run 1 port add px addr not-an-ip && err_has "not an IPv4 or IPv6 address"
	run 1 port add px addr 10.254.254.254 && err_has 'ip addr add'
	run 1 port add px addr "$IP4" udp 0 && err_has 'udp 0 is not a UDP port'
	run 1 port add px addr "$IP4" udp 70000 && err_has 'udp 70000'
	run 2 port add px addr "$IP4" udp lots && err_has "udp 'lots' is not a number"
	run 1 port add px addr "$IP4" mtu 1500 && err_has 'mtu 1500 is not an IB MTU'
	run 1 port add px addr 224.0.0.1 && err_has 'not a unicast'
	run 1 port add bad/name addr "$IP4" udp 4792 && err_has 'bad port name'
	run 1 port add averyveryverylongname addr "$IP4" udp 4792 && err_has 'bad port name'
	run 1 port add px addr "$IP4" && err_has '^ciovctl: '	# p4 has this address and UDP port
	run 2 port add px && err_has 'give addr IP'
	run 1 port del nosuch && err_has 'no port nosuch'
	run 1 port show nosuch && err_has 'no port nosuch'
	run 1 port capture nosuch /tmp/x.pcap count 1 && err_has 'no port nosuch'
	run 1 port capture p4 "$T" count 1 && err_has 'not a regular file'
	run 1 port capture p4 "$T/x.pcap" count 0 && err_has 'count must be'
	run 1 port capture p4 "$T/x.pcap" duration 0 && err_has 'duration must be'
	run 2 port capture p4 "$T/x.pcap" duration soon
	raw '{"cmd":"port.capture","name":"p4","file":"relative.pcap","count":1}' \
		'{"cmd":"port.add","name":"py","addr":"'"$IP4"'","udp":"4792"}' \
		'{"cmd":"port.add","name":"py","addr":"'"$IP4"'","bogus":1}' >"$T/out"
	json_all_is 'map(.ok)' '[false,false,false]'
	grep -q 'absolute path' "$T/out" || fail "relative capture file not refused as such"
	grep -q "unknown member 'bogus'" "$T/out" || fail "unknown member not refused"
	names && json_is '.' '["p4","p6"]'
	[ "$before" = "$(cat "$STATE/state.json")" ] || fail "a refused request changed the state file"
	[ -e "$T/x.pcap" ] && fail "a refused capture created its file"
}

state_file_holds_the_ports() {
	jq -c '.ports' "$STATE/state.json" >"$T/out"
	json_is '.' "[{\"name\":\"p4\",\"addr\":\"$IP4\",\"udp\":4791,\"mtu\":0},{\"name\":\"p6\",\"addr\":\"$IP6\",\"udp\":4791,\"mtu\":4096}]"
}

restart_brings_the_ports_back() {
	stop_ciovd
	start_ciovd
	run 0 port show -j || return
	json_is 'map([.name, .state, .addr, .mtu_cfg])' \
		"[[\"p4\",\"ACTIVE\",\"$IP4\",0],[\"p6\",\"ACTIVE\",\"$IP6\",4096]]"
}

port_without_its_address_comes_back_down_then_active() {
	stop_ciovd
	ip -n "$NS" addr del "$IP6/64" dev "$VA"
	start_ciovd
	run 0 port show p6 -j || return
	json_is '.[0] | [.state, .addr, .mtu_cfg, .gids]' "[\"DOWN\",\"$IP6\",4096,[]]"
	json_is '.[0].error | length > 0' 'true'
	run 0 port show p6 && out_has '^p6  state DOWN ' && out_has '^    error  '
	run 1 port add p6 addr "$IP6" && err_has 'DOWN'
	run 1 port capture p6 "$T/x.pcap" count 1 && err_has 'DOWN'
	grep -q '"p6"' "$STATE/state.json" || fail "the DOWN port left the state file"
	ip -n "$NS" addr add "$IP6/64" dev "$VA" nodad
	for _ in $(seq 50); do
		run 0 port show p6 -j && [ "$(jq -r '.[0].state' "$T/out")" = ACTIVE ] && break
		sleep 0.1
	done
	json_is '.[0] | [.state, .mtu]' '["ACTIVE",1024]'
}

capture_count_returns_with_the_packets() {
	traffic start
	sleep 0.3
	run 0 port capture p4 "$T/c5.pcap" count 5 || { traffic stop; return; }
	traffic stop
	out_has "^5 packets captured to $T/c5.pcap$"
	[ "$(pcap_count "$T/c5.pcap")" = 5 ] || fail "the pcap file holds $(pcap_count "$T/c5.pcap") packets, not 5"
	run 0 port show p4 -j && json_is '.[0].capture' 'null'
}

capture_duration_returns_after_it() {
	local t0 t1 ms
	t0=$(date +%s%N)
	run 0 port capture p4 "$T/d1.pcap" duration 1 -j || return
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	[ "$ms" -ge 900 ] && [ "$ms" -le 3000 ] || fail "capture duration 1 took $ms ms"
	json_is '.packets >= 0' 'true'
	json_is '.file' "\"$T/d1.pcap\""
	[ -s "$T/d1.pcap" ] || fail "no pcap file"
}

capture_relative_file_is_made_absolute() {
	(cd "$T" && "$CTL" --runtime-dir "$RUNDIR" port capture p4 rel.pcap duration 0.2 >"$T/out" 2>"$T/err") ||
		fail "relative capture failed: $(cat "$T/err")"
	out_has "captured to $T/rel.pcap"
	[ -e "$T/rel.pcap" ] || fail "no $T/rel.pcap"
}

client_hangup_stops_the_capture() {
	"$CTL" --runtime-dir "$RUNDIR" port capture p4 "$T/hup.pcap" >/dev/null 2>&1 &
	local pid=$!
	for _ in $(seq 50); do
		run 0 port show p4 -j && [ "$(jq -r '.[0].capture' "$T/out")" != null ] && break
		sleep 0.05
	done
	json_is '.[0].capture' "\"$T/hup.pcap\""
	kill "$pid"
	wait "$pid" 2>/dev/null
	for _ in $(seq 50); do
		run 0 port show p4 -j && [ "$(jq -r '.[0].capture' "$T/out")" = null ] && break
		sleep 0.05
	done
	json_is '.[0].capture' 'null'
	kill -0 "$DAEMON" 2>/dev/null || fail "ciovd died"
	run 0 port capture p4 "$T/after.pcap" duration 0.1 || fail "the port stayed busy"
}

requests_queue_behind_a_capture() {
	raw '{"cmd":"port.capture","name":"p6","file":"'"$T/q.pcap"'","duration":0.3}' \
		'{"cmd":"port.show","name":"p6"}' >"$T/out"
	json_all_is '[.[0].ok, (.[0].packets | type), .[1].ok, .[1].ports[0].name]' '[true,"number",true,"p6"]'
	run 0 port show p6 -j && json_is '.[0].capture' 'null'
}

second_capture_of_a_port_is_busy() {
	"$CTL" --runtime-dir "$RUNDIR" port capture p6 "$T/b1.pcap" duration 2 >"$T/bg.out" 2>&1 &
	local pid=$!
	sleep 0.5
	run 1 port capture p6 "$T/b2.pcap" count 1 && err_has 'already capturing'
	wait "$pid" || fail "the first capture failed: $(cat "$T/bg.out")"
}

del_during_capture_ends_it() {
	"$CTL" --runtime-dir "$RUNDIR" port capture p6 "$T/del.pcap" >"$T/bg.out" 2>&1 &
	local pid=$!
	sleep 0.5
	run 0 port del p6
	wait "$pid"
	local rc=$?
	[ "$rc" -le 1 ] || fail "the capture client exited $rc: $(cat "$T/bg.out")"
	grep -q 'packet' "$T/bg.out" || fail "the capture client said: $(cat "$T/bg.out")"
	names && json_is '.' '["p4"]'
}

del_removes_the_ports() {
	run 0 port del p4 || return
	names && json_is '.' '[]'
	jq -c '.ports' "$STATE/state.json" >"$T/out"
	json_is '.' '[]'
	run 1 port del p4
}

start_ciovd
t add_v4_and_v6_ports
t show_json_has_gid_mtu_state
t show_text_is_one_block_per_port
t bad_inputs_are_refused_and_change_nothing
t state_file_holds_the_ports
t restart_brings_the_ports_back
t port_without_its_address_comes_back_down_then_active
t capture_count_returns_with_the_packets
t capture_duration_returns_after_it
t capture_relative_file_is_made_absolute
t client_hangup_stops_the_capture
t requests_queue_behind_a_capture
t second_capture_of_a_port_is_busy
t del_during_capture_ends_it
t del_removes_the_ports
stop_ciovd
grep -E 'AddressSanitizer|LeakSanitizer|runtime error' "$T/ciovd.log" && fail "ciovd log has sanitizer reports"
finish
