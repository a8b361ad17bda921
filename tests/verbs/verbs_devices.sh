#!/bin/bash
# ibv_devices and ibv_devinfo -v (Debian's ibverbs-utils) under ciov-run
# list ciov0 with sane attributes: a RoCE (Ethernet) port, ACTIVE, GID 0 a
# RoCE v2 GID equal to the endpoint's, ciov's own vendor id, real limits.
# Usage: verbs_devices.sh BUILD_DIR. Exit 0 pass, 1 fail, 77 skip.
. "$(dirname "$0")/lib.sh"
need_tools ibv_devices ibv_devinfo jq python3
foreign_ok
start_ciovd

before=$FAILED
"$RUN" --endpoint a ibv_devices >"$T/out" 2>&1 || fail "ibv_devices exited $?"
grep -Eq '^\s+ciov0\s+[0-9a-f]{16}$' "$T/out" || fail "ibv_devices: no ciov0: $(cat "$T/out")"
report ibv_devices_lists_ciov0 "$before"

before=$FAILED
"$RUN" --endpoint a ibv_devinfo -v >"$T/info" 2>&1 || fail "ibv_devinfo exited $?"
val() { awk -v k="$1:" '$1 == k { print $2; exit }' "$T/info"; }
[ "$(val hca_id)" = ciov0 ] || fail "hca_id $(val hca_id)"
[ "$(val vendor_id)" = 0x2c10f ] || fail "vendor_id $(val vendor_id)"
[ "$(val phys_port_cnt)" = 1 ] || fail "phys_port_cnt"
[ "$(val state)" = PORT_ACTIVE ] || fail "state $(val state)"
[ "$(val link_layer)" = Ethernet ] || fail "link_layer $(val link_layer)"
[ "$(val active_mtu)" = 4096 ] || fail "active_mtu $(val active_mtu)"
for k in max_qp max_qp_wr max_sge max_cq max_cqe max_mr max_pd max_srq max_ah; do
	v=$(val $k)
	[ -n "$v" ] && [ "$v" -gt 0 ] 2>/dev/null || fail "$k is '$v'"
done
grep -Eq 'GID\[ *0\]:.*RoCE v2' "$T/info" || fail "no RoCE v2 GID 0"
# GID 0 is the endpoint's GID
gid=$("$CTL" --runtime-dir "$T/run" -j endpoint show a 2>/dev/null | jq -r '.. | .gid? // empty' | head -1)
shown=$(grep -E 'GID\[ *0\]' "$T/info" | awk '{print $3}' | tr -d ',')
norm() { python3 -c 'import ipaddress,sys; print(ipaddress.ip_address(sys.argv[1]).exploded)' "$1" 2>/dev/null; }
[ -n "$gid" ] && [ "$(norm "$gid")" = "$(norm "$shown")" ] || fail "GID 0 '$shown' is not the endpoint's '$gid'"
report ibv_devinfo_shows_sane_attributes "$before"

before=$FAILED
CIOV_ENDPOINT=nosuch "$RUN" ibv_devices >"$T/out" 2>&1
grep -q ciov0 "$T/out" && fail "a missing endpoint still lists ciov0"
"$RUN" true 2>/dev/null && fail "ciov-run without an endpoint did not fail"
report no_endpoint_no_device "$before"
finish
