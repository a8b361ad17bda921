#!/bin/bash
# One verbs device per fabric port. Two hosts (network namespaces) joined by
# two veth pairs, a ciovd in each with two ports, p0 on the first pair and
# p1 on the second (tests/fabric/lib.sh). Under ciov-run, Debian's
# unmodified tools see:
#  - ibv_devices: ciov0 and ciov1; ibv_devinfo -v: each with GID 0 its port's
#    RoCEv2 GID, the port's active MTU, ACTIVE;
#  - ibv_rc_pingpong / ibv_ud_pingpong -d ciov1 -g 0 -c and
#    ib_write_bw -d ciov1 -x 0 across the hosts: every RoCEv2 packet on p1,
#    none on p0 (ciovctl -j port show counters), and -d ciov0 the other way
#    round;
#  - libciov itself (verbs_ports_lib): ciov_query_port() names the ports,
#    GIDs, MTU and state; an address vector naming a port the adapter does
#    not have is refused.
# Usage: verbs_ports.sh BUILD_DIR. Exit 0 pass, 1 fail, 77 skip.
export CIOV_BUILD=${1:-${CIOV_BUILD:-}}
. "$(dirname "$0")/../fabric/lib.sh"
RUN=$B/src/verbs/ciov-run
LIBTEST=$B/tests/verbs/verbs_ports_lib
PMTU=1024 # p0 (fab_start)
PMTU1=2048 # p1: a different active MTU, so that each device's is its port's
for t in ibv_devices ibv_devinfo ibv_rc_pingpong ibv_ud_pingpong ib_write_bw jq python3; do
	command -v "$t" >/dev/null || skip "$t is not installed (apt-get install ibverbs-utils perftest; make deps)"
done
[ "${CIOV_SANITIZE:-none}" = none ] ||
	skip "sanitizer build (${CIOV_SANITIZE}): its libciov-verbs cannot be preloaded into Debian's uninstrumented binaries; the normal build runs this test"
[ -x "$RUN" ] && [ -x "$LIBTEST" ] || skip "ciov-run or verbs_ports_lib not built"

fab_hosts 2
# The second link: veth1 in each namespace, 10.233.0.0/24, MTU for 2048.
IP1_A=10.233.0.1 IP1_B=10.233.0.2
ip link add veth1 netns "$NS_A" mtu 2200 type veth peer name veth1 netns "$NS_B" mtu 2200 ||
	skip "cannot add a second veth pair"
ip -n "$NS_A" addr add "$IP1_A/24" dev veth1
ip -n "$NS_B" addr add "$IP1_B/24" dev veth1
ip -n "$NS_A" link set veth1 up
ip -n "$NS_B" link set veth1 up
for h in A B; do
	eval "ns=\$NS_$h ip1=\$IP1_$h"
	for _ in $(seq 100); do
		[ "$(ip netns exec "$ns" cat /sys/class/net/veth1/carrier 2>/dev/null)" = 1 ] && break
		sleep 0.02
	done
	fab_ctl "$h" port add p1 addr "$ip1" mtu $PMTU1 >/dev/null || { cat "$FAB_TMP/$h.log"; fail "port p1 on $h"; exit 1; }
done

# vrun H ARGS...: ciov-run on endpoint e of host H
vrun() {
	local h=$1 ns
	shift
	eval "ns=\$NS_$h"
	ip netns exec "$ns" env CIOV_RUNTIME_DIR="$FAB_TMP/$h" "$RUN" --endpoint e "$@"
}
# pcount H PORT COUNTER
pcount() { fab_ctl "$1" port show "$2" -j | jq -r ".[0].counters.$3"; }
norm() { python3 -c 'import ipaddress,sys; print(ipaddress.ip_address(sys.argv[1]).exploded)' "$1" 2>/dev/null; }
v4gid() { norm "::ffff:$1"; }

# ---- the devices ----
vrun A ibv_devices >"$FAB_TMP/devs" 2>&1 || fail "ibv_devices exited $?"
for d in ciov0 ciov1; do
	grep -Eq "^\s+$d\s+[0-9a-f]{16}$" "$FAB_TMP/devs" || fail "ibv_devices: no $d: $(cat "$FAB_TMP/devs")"
done
[ "$(grep -c '^\s*ciov' "$FAB_TMP/devs")" = 2 ] || fail "ibv_devices: not exactly two devices: $(cat "$FAB_TMP/devs")"
g0=$(awk '$1 == "ciov0" { print $2 }' "$FAB_TMP/devs") g1=$(awk '$1 == "ciov1" { print $2 }' "$FAB_TMP/devs")
[ -n "$g0" ] && [ "$g0" != "$g1" ] || fail "the devices' GUIDs are not distinct: '$g0' '$g1'"
echo "ok: ibv_devices lists ciov0 and ciov1"

vrun A ibv_devinfo -v >"$FAB_TMP/info" 2>&1 || fail "ibv_devinfo -v exited $?"
# devval DEV KEY: KEY's value in DEV's section of ibv_devinfo -v
devval() { awk -v d="$1" -v k="$2:" '$1 == "hca_id:" { cur = $2 } cur == d && $1 == k { print $2; exit }' "$FAB_TMP/info"; }
devgid() { awk -v d="$1" '$1 == "hca_id:" { cur = $2 } cur == d && /GID\[ *0\]/ { sub(/,.*/, "", $3); print $3; exit }' "$FAB_TMP/info"; }
devgidtype() { awk -v d="$1" '$1 == "hca_id:" { cur = $2 } cur == d && /GID\[ *0\]/ { print; exit }' "$FAB_TMP/info"; }
for spec in "ciov0 $IP_A $PMTU" "ciov1 $IP1_A $PMTU1"; do
	set -- $spec
	[ "$(devval "$1" vendor_id)" = 0x2c10f ] || fail "$1: vendor_id $(devval "$1" vendor_id)"
	[ "$(devval "$1" phys_port_cnt)" = 1 ] || fail "$1: phys_port_cnt $(devval "$1" phys_port_cnt)"
	[ "$(devval "$1" state)" = PORT_ACTIVE ] || fail "$1: state $(devval "$1" state)"
	[ "$(devval "$1" link_layer)" = Ethernet ] || fail "$1: link_layer $(devval "$1" link_layer)"
	[ "$(devval "$1" active_mtu)" = "$3" ] || fail "$1: active_mtu $(devval "$1" active_mtu), want $3 (its port's)"
	[ "$(devval "$1" max_qp)" -gt 0 ] 2>/dev/null || fail "$1: max_qp $(devval "$1" max_qp)"
	devgidtype "$1" | grep -q 'RoCE v2' || fail "$1: GID 0 is not RoCE v2: $(devgidtype "$1")"
	[ "$(norm "$(devgid "$1")")" = "$(v4gid "$2")" ] ||
		fail "$1: GID 0 '$(devgid "$1")' is not its port's ::ffff:$2"
done
echo "ok: ibv_devinfo -v: each device's GID 0 is its port's RoCEv2 GID, with its port's MTU"

# ---- traffic: ciovN uses port pN, and only it ----
OOB=$((30000 + $$ % 20000))
# across DEV PORT_USED PORT_IDLE TOOL ARGS...: server on B, client on A
# (the out-of-band TCP exchange over the first link); the RoCEv2 packets
# must all be on PORT_USED, both ways, none on PORT_IDLE.
across() {
	local dev=$1 used=$2 idle=$3 tool=$4 h c s sp
	shift 4
	declare -A tx0 rx0 itx0 irx0
	for h in A B; do
		tx0[$h]=$(pcount $h "$used" xmit_pkts) rx0[$h]=$(pcount $h "$used" rcv_pkts)
		itx0[$h]=$(pcount $h "$idle" xmit_pkts) irx0[$h]=$(pcount $h "$idle" rcv_pkts)
	done
	OOB=$((OOB + 1))
	timeout 60 ip netns exec "$NS_B" env CIOV_RUNTIME_DIR="$FAB_TMP/B" "$RUN" --endpoint e \
		"$tool" -d "$dev" "$@" -p $OOB >"$FAB_TMP/srv.out" 2>&1 &
	sp=$!
	c=1
	for _ in $(seq 50); do
		timeout 60 ip netns exec "$NS_A" env CIOV_RUNTIME_DIR="$FAB_TMP/A" "$RUN" --endpoint e \
			"$tool" -d "$dev" "$@" -p $OOB "$IP_B" >"$FAB_TMP/cli.out" 2>&1
		c=$?
		grep -qi "couldn't connect\|Unable to open file descriptor" "$FAB_TMP/cli.out" || break
		sleep 0.1
	done
	wait $sp
	s=$?
	if [ $c != 0 ] || [ $s != 0 ]; then
		fail "$tool -d $dev $*: client $c server $s"
		sed 's/^/    client: /' "$FAB_TMP/cli.out" | tail -5
		sed 's/^/    server: /' "$FAB_TMP/srv.out" | tail -5
		return 1
	fi
	for h in A B; do
		local tx=$(($(pcount $h "$used" xmit_pkts) - tx0[$h])) rx=$(($(pcount $h "$used" rcv_pkts) - rx0[$h]))
		local itx=$(($(pcount $h "$idle" xmit_pkts) - itx0[$h])) irx=$(($(pcount $h "$idle" rcv_pkts) - irx0[$h]))
		echo "    $h: $used sent $tx received $rx packets; $idle sent $itx received $irx"
		# both ways (a one-way tool's receiver only ACKs)
		[ "$tx" -gt 0 ] && [ "$rx" -gt 0 ] && [ $((tx + rx)) -ge 500 ] ||
			fail "$tool -d $dev: $h's $used hardly moved packets ($tx out, $rx in)"
		[ "$itx" = 0 ] && [ "$irx" = 0 ] || fail "$tool -d $dev: $h's $idle moved packets ($itx out, $irx in)"
	done
	echo "ok: $tool -d $dev $*: on $used only"
}
across ciov1 p1 p0 ibv_rc_pingpong -g 0 -c -n 500
across ciov1 p1 p0 ibv_ud_pingpong -g 0 -c -n 500
across ciov1 p1 p0 ib_write_bw -x 0 -n 500 -s 65536
across ciov0 p0 p1 ibv_rc_pingpong -g 0 -c -n 500

# ---- libciov ----
# counters H PORT: "xmit_pkts rcv_pkts"
counters() { echo "$(pcount "$1" "$2" xmit_pkts) $(pcount "$1" "$2" rcv_pkts)"; }
read -r p0a_tx p0a_rx <<<"$(counters A p0)"
read -r p1a_tx p1a_rx <<<"$(counters A p1)"
if "$LIBTEST" "$FAB_TMP/A" "$FAB_TMP/B" e 2 \
	"p0 $(v4gid "$IP_A") $PMTU" "p1 $(v4gid "$IP1_A") $PMTU1" >"$FAB_TMP/lib.out" 2>&1; then
	sed 's/^/    /' "$FAB_TMP/lib.out"
	read -r tx rx <<<"$(counters A p0)"
	[ "$tx" = "$p0a_tx" ] && [ "$rx" = "$p0a_rx" ] ||
		fail "libciov, source GID index 2: A's p0 moved packets ($((tx - p0a_tx)) out, $((rx - p0a_rx)) in)"
	read -r tx rx <<<"$(counters A p1)"
	[ $((tx - p1a_tx)) -ge 64 ] && [ $((rx - p1a_rx)) -ge 1 ] ||
		fail "libciov, source GID index 2: A's p1 hardly moved packets ($((tx - p1a_tx)) out, $((rx - p1a_rx)) in)"
	echo "ok: libciov: ciov_query_port; GID table bounds; source GID index 2 sends by p1 only"
else
	fail "verbs_ports_lib: $(cat "$FAB_TMP/lib.out")"
fi

for h in A B; do fab_stop $h; done
[ "$FAB_FAILED" = 0 ] && echo PASS
exit $FAB_FAILED
