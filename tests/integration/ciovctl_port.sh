#!/bin/bash
# ciovctl port against a real ciovd in its own network namespace: ports on
# IPv4 and IPv6 addresses of a veth, show (text and -j: GID, MTU, state),
# refusals that change nothing, a restart that brings the ports back (and a
# port whose address is gone comes back DOWN, then ACTIVE once the address
# is there again), service levels and VL arbitration (port set: each key,
# show in text and -j, bytes per SL and VL, hostile values refused whole,
# persistence across a restart, a DOWN port keeping and taking its
# settings, a bad state file refused), captures (count, duration, a client
# that hangs up, a port deleted mid-capture, requests queued behind a
# capture), del.
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

# The IPv6 address back on the interface; waits (5 s at most) for ciovd
# to open p6 again, leaving its `port show p6 -j` in $T/out.
ip6_back_p6_active() {
	ip -n "$NS" addr add "$IP6/64" dev "$VA" nodad
	for _ in $(seq 50); do
		run 0 port show p6 -j && [ "$(jq -r '.[0].state' "$T/out")" = ACTIVE ] && break
		sleep 0.1
	done
}

# ciovd again, after the IPv6 address left the interface.
restart_without_ip6() {
	stop_ciovd
	ip -n "$NS" addr del "$IP6/64" dev "$VA"
	start_ciovd
}

port_without_its_address_comes_back_down_then_active() {
	restart_without_ip6
	run 0 port show p6 -j || return
	json_is '.[0] | [.state, .addr, .mtu_cfg, .gids]' "[\"DOWN\",\"$IP6\",4096,[]]"
	json_is '.[0].error | length > 0' 'true'
	run 0 port show p6 && out_has '^p6  state DOWN ' && out_has '^    error  '
	run 1 port add p6 addr "$IP6" && err_has 'DOWN'
	run 1 port capture p6 "$T/x.pcap" count 1 && err_has 'DOWN'
	grep -q '"p6"' "$STATE/state.json" || fail "the DOWN port left the state file"
	ip6_back_p6_active
	json_is '.[0] | [.state, .mtu]' '["ACTIVE",1024]'
}

# ---- Service levels and VL arbitration (port set, doc/qos.md) ----

ZERO16='[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]'
DEFAULT_QOS='{"sl2vl":'$ZERO16',"vlarb_high":[],"vlarb_low":[{"vl":0,"weight":255}],"high_limit":4}'

qos_default_shows_in_text_and_json() {
	run 0 port show p4 -j || return
	json_is '.[0].qos' "$DEFAULT_QOS"
	json_is '.[0] | [(.sl_bytes | length), (.vl_bytes | length)]' '[16,8]'
	json_is '[.[0].sl_bytes[], .[0].vl_bytes[]] | all(type == "number")' 'true'
	run 0 port show p4 || return
	out_has '^    sl2vl 0:0,1:0,2:0,3:0,4:0,5:0,6:0,7:0,8:0,9:0,10:0,11:0,12:0,13:0,14:0,15:0$'
	out_has '^    vlarb  vlarb_high none  vlarb_low 0:255  high_limit 4$'
	out_lacks '_bytes'	# no traffic yet: no counter lines
}

# Bytes per SL and VL: a loopback flow on SL 3 counts on the first port
# (p4), on VL 0 while the tables are the default (the engine's plain pass
# counts too); the text form lists the nonzero counters only, and port set
# leaves them.
counters_per_sl_and_vl_show_when_nonzero() {
	local perf=$B/src/tools/perf/ciov-perf port=$((20000 + ID % 20000)) srv
	[ -x "$perf" ] || { echo "    (no ciov-perf: counters not checked)"; return; }
	run 0 endpoint add qs && run 0 endpoint add qc || return
	CIOV_RUNTIME_DIR=$RUNDIR CIOV_ENDPOINT=qs "$perf" write bw --size 65536 --iters 200 \
		--sl 3 --port "$port" >"$T/perf-s.out" 2>&1 &
	srv=$!
	sleep 0.3
	CIOV_RUNTIME_DIR=$RUNDIR CIOV_ENDPOINT=qc timeout 60 "$perf" write bw --size 65536 \
		--iters 200 --sl 3 --port "$port" 127.0.0.1 >"$T/perf-c.out" 2>&1 ||
		fail "ciov-perf: $(tail -n 3 "$T/perf-c.out")"
	wait "$srv"
	run 0 port show p4 -j || return
	json_is '.[0] | [.sl_bytes[3] >= 200 * 65536, .vl_bytes[0] >= 200 * 65536]' '[true,true]'
	json_is '.[0] | [.sl_bytes[0,1,2,4,5,6,7,8,9,10,11,12,13,14,15], .vl_bytes[1,2,3,4,5,6,7]] | add' '0'
	jq -c '.[0] | [.sl_bytes, .vl_bytes]' "$T/out" >"$T/bytes.before"
	run 0 port show p4 || return
	out_has '^    sl_bytes  3:[0-9.]+[KMG]?$'
	out_has '^    vl_bytes  0:[0-9.]+[KMG]?$'
	run 0 port set p4 high_limit 5 && run 0 port set p4 high_limit 4 || return
	run 0 port show p4 -j && jq -c '.[0] | [.sl_bytes, .vl_bytes]' "$T/out" >"$T/bytes.after"
	cmp -s "$T/bytes.before" "$T/bytes.after" || fail "port set changed the byte counters"
	run 0 endpoint del qs && run 0 endpoint del qc
}

port_set_each_key_shows_in_text_and_json() {
	run 0 port set p4 vlarb_low 0:255,2:32 || return
	run 0 port set p4 sl2vl 1:2,3:2 || return
	run 0 port set p4 vlarb_high 1:255 || return
	run 0 port set p4 sl2vl 5:1 || return
	run 0 port set p4 high_limit 255 -j || return
	json_is '[.name, .qos.high_limit]' '["p4",255]'
	run 0 port show p4 -j || return
	json_is '.[0].qos' '{"sl2vl":[0,2,0,2,0,1,0,0,0,0,0,0,0,0,0,0],"vlarb_high":[{"vl":1,"weight":255}],"vlarb_low":[{"vl":0,"weight":255},{"vl":2,"weight":32}],"high_limit":255}'
	run 0 port show p4 || return
	out_has '^    sl2vl 0:0,1:2,2:0,3:2,4:0,5:1,6:0,7:0,8:0,9:0,10:0,11:0,12:0,13:0,14:0,15:0$'
	out_has '^    vlarb  vlarb_high 1:255  vlarb_low 0:255,2:32  high_limit 255$'
	jq -c '.ports[0].qos' "$STATE/state.json" >"$T/out"
	json_is '.' '{"sl2vl":"0:0,1:2,2:0,3:2,4:0,5:1,6:0,7:0,8:0,9:0,10:0,11:0,12:0,13:0,14:0,15:0","vlarb_high":"1:255","vlarb_low":"0:255,2:32","high_limit":255}'
	# every key in one command; high_limit 0
	run 0 port set p6 sl2vl 0:3,15:7 vlarb_high 3:10,3:5 vlarb_low 0:1,7:200,0:0 high_limit 0 || return
	run 0 port show p6 -j || return
	json_is '.[0].qos' '{"sl2vl":[3,0,0,0,0,0,0,0,0,0,0,0,0,0,0,7],"vlarb_high":[{"vl":3,"weight":10},{"vl":3,"weight":5}],"vlarb_low":[{"vl":0,"weight":1},{"vl":7,"weight":200},{"vl":0,"weight":0}],"high_limit":0}'
	# the default again drops "qos" from the state file
	run 0 port set p6 sl2vl 0:0,15:0 vlarb_high none vlarb_low 0:255 high_limit 4 || return
	run 0 port show p6 -j && json_is '.[0].qos' "$DEFAULT_QOS"
	jq -c '.ports[1] | has("qos")' "$STATE/state.json" >"$T/out"
	json_is '.' 'false'
	run 0 port set p6 vlarb_low 0:255,4:8 sl2vl 2:4 || return
}

port_set_bad_inputs_are_refused_whole() {
	local before qos33 i
	before=$(cat "$STATE/state.json")
	run 0 port show -j && jq -c 'map(.qos)' "$T/out" >"$T/qos.before"
	# valid sl2vl, invalid vlarb_low: sl2vl is not applied either
	run 1 port set p4 sl2vl 4:2 vlarb_low 0:255,9:1 && err_has "vlarb_low: VL 9 is out of range 0-7; nothing was changed"
	run 1 port set p4 sl2vl 4:2 high_limit 300 && err_has 'high_limit: value 300 is out of range 0-255'
	# an SL on a VL that no table serves
	run 1 port set p4 sl2vl 7:6 && err_has 'SL 7 maps to VL 6, which neither vlarb_high nor vlarb_low'
	run 1 port set p4 vlarb_high 1:255,6:0 sl2vl 7:6 && err_has 'SL 7 maps to VL 6'
	run 1 port set p4 vlarb_high 6:1 && err_has 'SL 5 maps to VL 1'
	run 1 port set p4 vlarb_low none && err_has 'map to VL 0'
	run 1 port set p4 vlarb_low 0:255 && err_has 'SL 1,3 map to VL 2'
	run 1 port set nosuch sl2vl 0:0 && err_has 'no port nosuch'
	run 1 port set p4 sl2vl 16:0 && err_has 'SL 16 is out of range 0-15'
	run 1 port set p4 sl2vl 0:8 && err_has 'VL 8 is out of range 0-7'
	run 1 port set p4 vlarb_high 1:1000 && err_has 'weight 1000 is out of range 0-255'
	run 1 port set p4 high_limit 99999999999999999999999999 && err_has 'out of range 0-255'
	run 2 port set p4 high_limit -1 && err_has "unknown option '-1'"
	run 1 port set p4 high_limit 0x10 && err_has "'0x10' is not a decimal number"
	run 1 port set p4 sl2vl 1:1x && err_has "VL '1x' is not a decimal number"
	run 1 port set p4 sl2vl 1:1, && err_has 'empty entry'
	run 1 port set p4 sl2vl '1:1 2:2' && err_has "'1 2:2' is not a decimal number"
	run 1 port set p4 sl2vl 1:1,1:2 && err_has 'SL 1 is given twice'
	run 1 port set p4 vlarb_low garbage && err_has "entry 'garbage' is not VL:weight"
	run 1 port set p4 vlarb_low '' && err_has 'the value is empty'
	qos33=0:255
	for i in $(seq 32); do qos33=$qos33,2:1; done
	run 1 port set p4 vlarb_low "$qos33" && err_has 'more than 32 entries'
	run 2 port set p4 && err_has 'nothing to set'
	run 2 port set p4 bogus 1 && err_has "unknown argument 'bogus'"
	run 2 port set p4 sl2vl && err_has 'sl2vl needs a value'
	run 2 port set p4 sl2vl 0:0 sl2vl 1:0 && err_has 'sl2vl is given twice'
	run 2 port set && err_has 'NAME is missing'
	raw '{"cmd":"port.set","name":"p4","high_limit":-1}' \
		'{"cmd":"port.set","name":"p4","sl2vl":5}' \
		'{"cmd":"port.set","name":"p4","bogus":1}' \
		'{"cmd":"port.set","name":"p4"}' \
		'{"cmd":"port.set","sl2vl":"0:0"}' \
		'{"cmd":"port.set","name":"p4","vlarb_low":"0:255,2:32,9:9"}' \
		'{"cmd":"port.set","name":"p4","high_limit":"-1"}' \
		'{"cmd":"port.set","name":"p4","high_limit":1e3}' >"$T/out"
	json_all_is 'map(.ok)' '[false,false,false,false,false,false,false,false]'
	grep -q "value '-1' is not a decimal number" "$T/out" || fail "high_limit \"-1\" not refused as such"
	grep -q "must be a string or an integer" "$T/out" || fail "high_limit 1e3 not refused as such"
	grep -q "'sl2vl' must be a string" "$T/out" || fail "a number for sl2vl not refused as such"
	grep -q "unknown member 'bogus'" "$T/out" || fail "unknown member not refused"
	grep -q "nothing to set" "$T/out" || fail "an empty port.set not refused as such"
	grep -q "missing member 'name'" "$T/out" || fail "port.set without a name not refused as such"
	[ "$before" = "$(cat "$STATE/state.json")" ] || fail "a refused port set changed the state file"
	run 0 port show -j && jq -c 'map(.qos)' "$T/out" >"$T/qos.after"
	cmp -s "$T/qos.before" "$T/qos.after" || fail "a refused port set changed a port: $(cat "$T/qos.after")"
	# high_limit may be a JSON integer
	raw '{"cmd":"port.set","name":"p4","high_limit":200}' >"$T/out"
	json_all_is 'map([.ok, .port.qos.high_limit])' '[[true,200]]'
	kill -0 "$DAEMON" 2>/dev/null || fail "ciovd died"
}

qos_survives_a_restart() {
	run 0 port show -j && jq -c 'map(.qos)' "$T/out" >"$T/qos.before"
	stop_ciovd
	start_ciovd
	run 0 port show -j || return
	json_is 'map(.state)' '["ACTIVE","ACTIVE"]'
	jq -c 'map(.qos)' "$T/out" >"$T/qos.after"
	cmp -s "$T/qos.before" "$T/qos.after" ||
		fail "qos after restart $(cat "$T/qos.after"), before $(cat "$T/qos.before")"
	json_is '.[0].qos.sl2vl[1]' '2'
}

down_port_keeps_its_qos_and_takes_a_new_one() {
	restart_without_ip6
	run 0 port show p6 -j || return
	json_is '.[0] | [.state, .qos.sl2vl[2], .qos.vlarb_low]' '["DOWN",4,[{"vl":0,"weight":255},{"vl":4,"weight":8}]]'
	run 0 port show p6 && out_has '^    vlarb  vlarb_high none  vlarb_low 0:255,4:8  high_limit 4$'
	run 1 port set p6 sl2vl 9:5 && err_has 'SL 9 maps to VL 5'
	run 0 port set p6 high_limit 9 vlarb_high 5:1 sl2vl 9:5 -j || return
	json_is '[.state, .qos.high_limit, .qos.sl2vl[9]]' '["DOWN",9,5]'
	jq -c '.ports[1] | [.name, .qos.high_limit, .qos.vlarb_high]' "$STATE/state.json" >"$T/out"
	json_is '.' '["p6",9,"5:1"]'
	# still DOWN after a restart: the new settings stay
	stop_ciovd
	start_ciovd
	run 0 port show p6 -j && json_is '.[0] | [.state, .qos.high_limit, .qos.vlarb_high]' '["DOWN",9,[{"vl":5,"weight":1}]]'
	# the port opens with them
	ip6_back_p6_active
	json_is '.[0] | [.state, .qos.high_limit, .qos.sl2vl[9], .qos.sl2vl[2]]' '["ACTIVE",9,5,4]'
}

state_file_with_bad_qos_is_refused() {
	local good
	stop_ciovd
	good=$(cat "$STATE/state.json")
	jq -c '.ports[0].qos.vlarb_low = "0:255,9:1"' "$STATE/state.json" >"$T/bad.json" &&
		cp "$T/bad.json" "$STATE/state.json"
	timeout 20 "$CIOVD" --runtime-dir "$RUNDIR" --state-dir "$STATE" --foreground \
		$ADMIN_GROUP 2>"$T/bad.log" && fail "ciovd started with a bad qos in its state file"
	grep -q 'state: port p4: vlarb_low: VL 9 is out of range 0-7' "$T/bad.log" ||
		fail "ciovd did not say why: $(tail -n 3 "$T/bad.log")"
	grep -qE 'AddressSanitizer|runtime error|Segmentation' "$T/bad.log" && fail "ciovd crashed"
	printf '%s' "$good" | jq -c '.ports[0].qos = {"sl2vl": "3:3"}' >"$STATE/state.json"
	timeout 20 "$CIOVD" --runtime-dir "$RUNDIR" --state-dir "$STATE" --foreground \
		$ADMIN_GROUP 2>"$T/bad.log" && fail "ciovd started with an SL on an unserved VL"
	grep -q 'state: port p4: sl2vl: SL 3 maps to VL 3' "$T/bad.log" ||
		fail "ciovd did not say why: $(tail -n 3 "$T/bad.log")"
	# an older state file, without qos: the defaults
	printf '%s' "$good" | jq -c 'del(.ports[].qos)' >"$STATE/state.json"
	start_ciovd
	run 0 port show -j && json_is 'map(.qos) | unique' "[$DEFAULT_QOS]"
	# put the settings back for what follows
	run 0 port set p6 vlarb_low 0:255,4:8 sl2vl 2:4
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
t qos_default_shows_in_text_and_json
t counters_per_sl_and_vl_show_when_nonzero
t port_set_each_key_shows_in_text_and_json
t port_set_bad_inputs_are_refused_whole
t qos_survives_a_restart
t down_port_keeps_its_qos_and_takes_a_new_one
t state_file_with_bad_qos_is_refused
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
