#!/bin/sh
# ciovctl rate against the real ciovd: devlink's (tc's) rate units in and
# out, show as text and -j, refusals with exit 1 and ciovd's message, bad
# units with exit 2 and the list of units, persistence over a restart.
# Usage: ciovctl_rate.sh BUILD_DIR. Exit 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/../integration/ciovctl_lib.sh"

ctl_setup "${1:-}"
ctl_daemon_init

# unit_is RATE BYTES: `rate set vm1 tx_max RATE` stores BYTES per second
unit_is() {
	run 0 rate set vm1 tx_max "$1" -j || return
	json_is '.tx_max' "$2"
}

units_follow_tc_and_devlink() {
	unit_is 8 1                      # a bare number is bits/s, as tc's get_rate64
	unit_is 800bit 100
	unit_is 1kbit 125
	unit_is 2mbit 250000
	unit_is 2gbit 250000000
	unit_is 1tbit 125000000000
	unit_is 1.5gbit 187500000
	unit_is 2Gbit 250000000          # any case, as tc
	unit_is 1kibit 128
	unit_is 8mibit 1048576
	unit_is 8gibit 1073741824
	unit_is 100bps 100               # bps: BYTES/s
	unit_is 3kbps 3000
	unit_is 3mbps 3000000
	unit_is 3gbps 3000000000
	unit_is 1kibps 1024
	unit_is 1mibps 1048576
	unit_is 1gibps 1073741824
	unit_is 0 0                      # 0: not set
}

bad_units_exit_2_and_list_the_units() {
	for _bad in 5zbit gbit 1e400 nan 1.2.3mbit 10mbitt; do
		run 2 rate set vm1 tx_max "$_bad" || continue
		err_has "tx_max '$_bad' is (not a rate|out of range)"
	done
	run 2 rate set vm1 tx_max 5zbit && err_has 'kbit, mbit, gbit, tbit, kibit.*bps, kbps.*gibps' &&
		err_has 'a bare number is bits/s'
	run 2 rate set vm1 tx_max -1gbit # a word starting with '-' is an option
	run 2 rate set vm1 tx_share 1 && err_has 'out of range: 0 \(not set\), or from 8bit'
	run 2 rate set vm1 tx_weight heavy && err_has "tx_weight 'heavy' is not a number"
	run 2 rate set vm1 tx_mx 1gbit && err_has "unknown argument 'tx_mx'"
	run 2 rate set vm1 tx_max && err_has 'tx_max needs a value'
	run 2 rate set vm1 && err_has 'nothing to set'
	run 2 rate add && err_has 'NAME is missing'
	run 2 rate del g1 g2 && err_has "unexpected argument 'g2'"
}

show_prints_readable_units() {
	run 0 rate add g1 tx_max 10gbit tx_share 1gibit tx_priority 3 || return
	run 0 rate set vm1 tx_share 2gbit tx_max 2500mbit tx_weight 3 parent g1 || return
	run 0 rate set vm2 tx_max 1234567891bit || return
	run 0 rate show || return
	out_has '^vm1  type leaf  tx_share 2Gbit  tx_max 2500Mbit  tx_weight 3  parent g1$'
	out_has '^vm2  type leaf  tx_max 1\.235Gbit$'
	out_has '^g1  type node  tx_share 1Gibit  tx_max 10Gbit  tx_priority 3$'
	run 0 rate show g1 && [ "$(wc -l <"$T/out")" = 1 ] || fail "show g1 is not one line"
	run 0 rate show -j || return
	json_is 'map(.name)' '["vm1","vm2","g1"]'
	json_is 'map(select(.name=="vm1"))[0] | [.type,.tx_share,.tx_max,.tx_weight,.tx_priority,.parent]' \
		'["leaf",250000000,312500000,3,0,"g1"]'
	json_is 'map(select(.name=="vm2"))[0].parent' 'null'
}

refusals_exit_1_with_the_daemons_message() {
	run 0 rate show -j && cp "$T/out" "$T/before"
	run 1 rate set vm1 tx_share 11gbit tx_max 0 && err_has '^ciovctl: tx_share .* of vm1 is above tx_max .* of its ancestor g1'
	run 1 rate set nope tx_max 1gbit && err_has '^ciovctl: no endpoint or rate group nope'
	run 1 rate set vm2 parent nope && err_has 'no rate group nope'
	run 1 rate set g1 parent g1 && err_has 'parent loop'
	run 1 rate set vm2 tx_max 2tbit && err_has '1 Tbit/s'
	run 1 rate set vm2 tx_weight 101 && err_has 'tx_weight 101'
	run 1 rate del g1 && err_has 'g1 has 1 children'
	run 1 rate add vm2 && err_has 'already exists'
	run 0 rate show -j && cmp -s "$T/out" "$T/before" || fail "a refused request changed something"
}

noparent_and_del() {
	run 0 rate set vm1 noparent -j && json_is '.parent' 'null'
	run 0 rate del g1 || return
	run 0 rate show && out_lacks '^g1 '
}

settings_survive_a_restart() {
	run 0 rate add g2 tx_max 40gbit || return
	run 0 rate set vm1 parent g2 tx_share 1gbit || return
	run 0 rate show -j && cp "$T/out" "$T/before"
	stop_ciovd
	start_ciovd
	run 0 rate show -j && cmp -s "$T/out" "$T/before" || fail "rates changed over a restart"
}

start_ciovd
"$CTL" --runtime-dir "$RUNDIR" endpoint add vm1 >/dev/null || fail "endpoint add vm1"
"$CTL" --runtime-dir "$RUNDIR" endpoint add vm2 >/dev/null || fail "endpoint add vm2"
t units_follow_tc_and_devlink
t bad_units_exit_2_and_list_the_units
t show_prints_readable_units
t refusals_exit_1_with_the_daemons_message
t noparent_and_del
t settings_survive_a_restart
stop_ciovd
finish
