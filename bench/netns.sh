# Network namespaces as "hosts" (FACTS.md, Networks for tests); sourced by
# bench scripts (and tests), not run. Needs root and iproute2.
#
# netns_pair [MTU]      two namespaces joined by a veth pair (MTU 1500):
#                       NS_A NS_B (names), IP_A IP_B (10.231.0.1, .2/24),
#                       DEV_A DEV_B (the veth in each, both "veth0").
# netns_bridge3 [MTU]   three namespaces, each with a veth into a Linux
#                       bridge that lives in a fourth one (NS_BR), so the
#                       root namespace is never touched: NS_A NS_B NS_C,
#                       IP_A IP_B IP_C (10.232.0.1, .2, .3/24), DEV_* "veth0".
# nsx NS CMD...         run CMD in namespace NS (`ip netns exec`).
# netns_destroy         delete every namespace this shell created (the
#                       veths and the bridge go with them). Called at exit:
#                       the first netns_* call chains it in front of the
#                       EXIT trap already set, so set your own trap first
#                       or chain it the same way (netns_on_exit CMD).
# netns_available       0 if this shell may create namespaces (prints why not
#                       on stderr otherwise).
#
# Names are unique per shell (ciov-<pid>-<random>-<n><role>), so concurrent runs
# do not collide; addresses may repeat because every namespace is its own
# network stack.

NETNS_CREATED=${NETNS_CREATED:-}

# netns_on_exit CMD: run CMD at exit, before whatever the EXIT trap did.
netns_on_exit() {
	local cmd=$1 old
	eval "set -- $(trap -p EXIT) x x x" 2>/dev/null
	old=$3
	[ "$old" = x ] && old=:
	# shellcheck disable=SC2064 # both are fixed now, on purpose
	trap "$cmd; $old" EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM HUP
}

netns_available() {
	if [ "$(id -u)" != 0 ]; then
		echo "netns: not root" >&2
		return 1
	fi
	command -v ip >/dev/null || {
		echo "netns: no ip (iproute2)" >&2
		return 1
	}
	local probe=ciov-probe-$$-$RANDOM
	ip netns add "$probe" 2>/dev/null || {
		echo "netns: ip netns add fails here" >&2
		return 1
	}
	ip netns del "$probe"
}

_netns_new() { # _netns_new VAR SUFFIX: a fresh namespace, its name in VAR
	_NETNS_SEQ=$((${_NETNS_SEQ:-0} + 1))
	local n=ciov-$$-$_NETNS_TAG-$_NETNS_SEQ$2
	ip netns add "$n" || return 1
	NETNS_CREATED="$NETNS_CREATED $n"
	# No IPv6 DAD on the links that come: "nodad" covers only the
	# addresses added with it, and while the kernel's own link-local
	# address is tentative it sends no neighbour solicitation, so a peer
	# stays unresolved for a second (tests/harness/netns.c, host_up()).
	ip netns exec "$n" sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
	ip -n "$n" link set lo up
	eval "$1=\$n"
}

_netns_init() {
	if [ -z "${_NETNS_TAG:-}" ]; then
		_NETNS_TAG=$RANDOM
		netns_on_exit netns_destroy
	fi
}

nsx() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

netns_pair() {
	local mtu=${1:-1500}
	_netns_init
	_netns_new NS_A a && _netns_new NS_B b || return 1
	IP_A=10.231.0.1 IP_B=10.231.0.2 DEV_A=veth0 DEV_B=veth0
	ip link add "$DEV_A" netns "$NS_A" mtu "$mtu" type veth peer name "$DEV_B" netns "$NS_B" mtu "$mtu" ||
		return 1
	ip -n "$NS_A" addr add "$IP_A/24" dev "$DEV_A"
	ip -n "$NS_B" addr add "$IP_B/24" dev "$DEV_B"
	ip -n "$NS_A" link set "$DEV_A" up
	ip -n "$NS_B" link set "$DEV_B" up
	_netns_wait_up "$NS_A" "$DEV_A" && _netns_wait_up "$NS_B" "$DEV_B"
}

netns_bridge3() {
	local mtu=${1:-1500} x ns ip i=0
	_netns_init
	_netns_new NS_BR br && _netns_new NS_A a && _netns_new NS_B b && _netns_new NS_C c || return 1
	ip -n "$NS_BR" link add br0 mtu "$mtu" type bridge || return 1
	ip -n "$NS_BR" link set br0 up
	for x in A B C; do
		i=$((i + 1))
		eval "ns=\$NS_$x"
		ip=10.232.0.$i
		eval "IP_$x=$ip DEV_$x=veth0"
		ip link add veth0 netns "$ns" mtu "$mtu" type veth peer name "p$i" netns "$NS_BR" mtu "$mtu" ||
			return 1
		ip -n "$NS_BR" link set "p$i" master br0 up
		ip -n "$ns" addr add "$ip/24" dev veth0
		ip -n "$ns" link set veth0 up
	done
	for x in A B C; do
		eval "ns=\$NS_$x"
		_netns_wait_up "$ns" veth0 || return 1
	done
}

# Until DEV in NS has carrier and its address is usable (no DAD on IPv4,
# but the bridge's ports take a moment to forward).
_netns_wait_up() {
	local i
	for i in $(seq 100); do
		[ "$(ip netns exec "$1" cat "/sys/class/net/$2/carrier" 2>/dev/null)" = 1 ] && return 0
		sleep 0.02
	done
	echo "netns: $2 in $1 has no carrier" >&2
	return 1
}

netns_destroy() {
	local n pid
	for n in $NETNS_CREATED; do
		[ -e "/run/netns/$n" ] || continue
		# Anything still running in there (a server we lost track of).
		for pid in $(ip netns pids "$n" 2>/dev/null); do
			kill "$pid" 2>/dev/null
		done
		ip netns del "$n" 2>/dev/null
	done
	NETNS_CREATED=
}
