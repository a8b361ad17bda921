#!/bin/sh
# ciovctl against the real ciovd: endpoint add, set, show and del as a user
# sees them (text, and -j parsed with jq), mistakes and refusals with their
# exit statuses, a few hundred endpoints, a restart, a stopped daemon.
# Usage: ciovctl_endpoint.sh BUILD_DIR. Exit 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/ciovctl_lib.sh"

ctl_setup "${1:-}"
ctl_daemon_init

# names of the endpoints, in the order shown
names() {
	run 0 endpoint show -j && jq -c 'map(.name)' "$T/out"
}

add_then_show_reports_what_was_set() {
	run 0 endpoint add vm1 mode native owner 1000:1000 quota qps 64 quota mr_bytes 4G || return
	run 0 endpoint show vm1 -j || return
	json_is 'length' '1'
	json_is '.[0] | [.name, .mode, .owner.uid, .owner.gid]' '["vm1","native",1000,1000]'
	json_is '.[0].quota | [.qps, .mr_bytes, .pds]' '[64,4294967296,64]'
	json_is '.[0].usage.qps' '0'
	json_is '.[0].gid | test("^[0-9a-f:]+:[0-9a-f]*$")' 'true'
}

show_text_is_one_readable_block() {
	run 0 endpoint show vm1 || return
	out_has '^vm1  id [0-9]+  mode native  owner 1000:1000  gid [0-9a-f:]+$'
	out_has '^    quota  pds 0/64  mrs 0/4096  mr_bytes 0/4G '
	out_has ' qps 0/64 '
	out_has '^    counters  ctl_ops 0 '
	[ "$(grep -c '^[^ ]' "$T/out")" = 1 ] || fail "expected one block"
}

add_with_j_prints_the_new_endpoint() {
	run 0 endpoint add vm2 mode passthrough owner root -j || return
	json_is '[.name, .mode, .owner.uid, .owner.gid]' '["vm2","passthrough",0,-1]'
}

adding_an_existing_name_fails() {
	run 1 endpoint add vm1 && err_has '^ciovctl: .*vm1.*exists'
	[ -s "$T/out" ] && fail "a failed add printed on stdout"
	run 0 endpoint show vm1 -j && json_is '.[0].mode' '"native"'
}

set_changes_only_what_it_names() {
	run 0 endpoint set vm1 quota qps 128 mrs 1K mode passthrough || return
	run 0 endpoint show vm1 -j || return
	json_is '.[0] | [.mode, .owner.uid, .owner.gid]' '["passthrough",1000,1000]'
	json_is '.[0].quota | [.qps, .mrs, .mr_bytes, .pds]' '[128,1024,4294967296,64]'
}

owner_names_become_numbers() {
	run 0 endpoint set vm1 owner root: && run 0 endpoint show vm1 -j &&
		json_is '.[0].owner' '{"uid":0,"gid":0}'
	run 0 endpoint set vm1 owner 1000:1000
}

unknown_quota_key_exits_2_and_changes_nothing() {
	run 2 endpoint set vm1 quota qps 1 quota frob 3 && err_has "unknown quota key 'frob'" &&
		err_has '^Usage: ciovctl \[OPTIONS\] endpoint'
	run 2 endpoint add vm9 quota frob 3
	run 2 endpoint set vm1 quota qps lots && err_has "'lots' is not a number"
	run 2 endpoint set vm1 mode software
	run 0 endpoint show vm1 -j && json_is '.[0].quota.qps' '128'
	run 1 endpoint show vm9
}

bad_names_are_refused() {
	for _n in bad/name .hidden "with space" "$(printf 'x%.0s' $(seq 64))"; do
		run 1 endpoint add "$_n" && err_has '^ciovctl: '
	done
	run 0 endpoint show -j && json_is 'map(.name) | sort' '["vm1","vm2"]'
}

missing_endpoint_fails_with_exit_1() {
	run 1 endpoint set nosuch quota qps 1 && err_has '^ciovctl: .*nosuch'
	run 1 endpoint del nosuch && err_has '^ciovctl: .*nosuch'
	run 1 endpoint show nosuch && err_has '^ciovctl: .*nosuch'
	[ -s "$T/out" ] && fail "a failed show printed on stdout"
}

del_removes_it_from_show() {
	run 0 endpoint add gone || return
	run 0 endpoint del gone && [ ! -s "$T/out" ] || fail "del printed something"
	run 0 endpoint show -j && json_is 'map(select(.name == "gone")) | length' '0'
	run 0 endpoint show && out_lacks '^gone '
	run 1 endpoint show gone
	run 1 endpoint del gone
	run 0 endpoint add gone && run 0 endpoint delete gone force
}

adapter_show_counts_endpoints() {
	run 0 adapter show -j || return
	json_is '.endpoints' '2'
	json_is '.version | length > 0' 'true'
	run 0 adapter show && out_has '^adapter  version [^ ]+ .* endpoints 2( |$)'
}

hundreds_of_endpoints_show_whole() {
	_n=400
	for _i in $(seq "$_n"); do
		"$CTL" --runtime-dir "$RUNDIR" endpoint add "many$_i" quota qps "$_i" ||
			{ fail "adding many$_i"; return; }
	done
	run 0 endpoint show -j || return
	json_is 'map(select(.name | startswith("many"))) | length' "$_n"
	json_is "map(select(.name == \"many$_n\"))[0].quota.qps" "$_n"
	run 0 endpoint show && [ "$(grep -c '^many' "$T/out")" = "$_n" ] ||
		fail "text output lacks endpoints"
	for _i in $(seq "$_n"); do
		"$CTL" --runtime-dir "$RUNDIR" endpoint del "many$_i" || { fail "del many$_i"; return; }
	done
}

endpoints_survive_a_restart() {
	run 0 endpoint show -j || return
	cp "$T/out" "$T/before"
	stop_ciovd
	run 3 endpoint show && err_has 'cannot connect to .*admin.sock: .*is ciovd running'
	start_ciovd
	run 0 endpoint show -j || return
	_want=$(jq -c 'map(del(.counters, .usage)) | sort_by(.name)' "$T/before")
	json_is 'map(del(.counters, .usage)) | sort_by(.name)' "$_want"
}

others_cannot_reach_the_admin_socket() {
	if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null 2>&1 ||
		! setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$CTL" 2>/dev/null; then
		echo "    (skipped: needs root, setpriv and a build directory others can read)"
		return
	fi
	setpriv --reuid=65534 --regid=65534 --clear-groups "$CTL" --runtime-dir "$RUNDIR" \
		endpoint show >"$T/out" 2>"$T/err"
	_rc=$?
	[ "$_rc" = 3 ] || [ "$_rc" = 1 ] || fail "nobody got exit status $_rc, expected 3 or 1"
	err_has '^ciovctl: '
}

start_ciovd
t add_then_show_reports_what_was_set
t show_text_is_one_readable_block
t add_with_j_prints_the_new_endpoint
t adding_an_existing_name_fails
t set_changes_only_what_it_names
t owner_names_become_numbers
t unknown_quota_key_exits_2_and_changes_nothing
t bad_names_are_refused
t missing_endpoint_fails_with_exit_1
t del_removes_it_from_show
t adapter_show_counts_endpoints
t hundreds_of_endpoints_show_whole
t endpoints_survive_a_restart
t others_cannot_reach_the_admin_socket
stop_ciovd
finish
