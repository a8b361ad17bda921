#!/bin/sh
# ciovctl's command line against a fake ciovd that answers canned JSON: the
# request each command sends, exit statuses, text and JSON output, replies
# of several MiB or in small pieces, a daemon that hangs up or talks nonsense.
# Usage: ciovctl_cli.sh BUILD_DIR. Exit 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/ciovctl_lib.sh"

ctl_setup "${1:-}"
command -v python3 >/dev/null 2>&1 || skip "python3 is not installed"

RUNDIR=$T/run
LOG=$RUNDIR/requests.log
mkdir -p "$RUNDIR"

# The fake: logs every request line to requests.log, answers by cmd and name.
cat >"$T/fake.py" <<'EOF'
import json, os, socket, sys, threading, time

rundir = sys.argv[1]
log = open(os.path.join(rundir, "requests.log"), "a", buffering=1)

def endpoint(i, name):
    return {"name": name, "id": i, "mode": "passthrough",
            "owner": {"uid": 1000, "gid": 1000 if i % 2 else -1},
            "gid": "fd00:c10f::%x" % i,
            "quota": {"pds": 64, "mrs": 4096, "mr_bytes": 4 << 30, "qps": 256},
            "usage": {"pds": 1, "mrs": 2, "mr_bytes": 8 << 20, "qps": 0},
            "counters": {"ctl_ops": 12, "ctl_errors": 1,
                         "errors": {"EINVAL": 1, "EDQUOT": 0},
                         "iotlb_hits": 0, "iotlb_misses": 0}}

def show(name):
    if name is None:
        return {"ok": True, "endpoints": [endpoint(1, "vm1"), endpoint(2, "vm2")]}
    if name == "many":
        return {"ok": True, "endpoints": [endpoint(i, "ep%d" % i) for i in range(1, 10001)]}
    if name in ("vm1", "slow"):
        return {"ok": True, "endpoints": [endpoint(1, name)]}
    if name in ("hangup", "garbage"):
        return name
    return {"ok": False, "errno": 2, "error": "no endpoint %s" % name}

def answer(req):
    cmd, name = req.get("cmd"), req.get("name")
    if cmd == "endpoint.show":
        return show(name)
    if cmd == "endpoint.add" and name == "exists":
        return {"ok": False, "errno": 17, "error": "endpoint exists already exists"}
    if cmd in ("endpoint.add", "endpoint.set"):
        return {"ok": True, "endpoint": endpoint(3, name)}
    if cmd == "endpoint.del":
        return {"ok": True}
    if cmd == "adapter.show":
        return {"ok": True, "adapter": {"version": "0.1.0", "abi": 1, "endpoints": 2,
                                        "limits": {"endpoints": 4096, "max_mr_size": 1 << 40}}}
    return {"ok": False, "errno": 22, "error": "unknown cmd %s" % cmd}

def serve(conn):
    with conn:
        for line in conn.makefile("rb"):
            log.write(line.decode())
            req = json.loads(line)
            rep = answer(req)
            if rep == "hangup":
                return
            data = b"not json\n" if rep == "garbage" else (json.dumps(rep) + "\n").encode()
            step = 7 if req.get("name") == "slow" else len(data)
            for i in range(0, len(data), step):
                conn.sendall(data[i:i + step])
                if step < len(data):
                    time.sleep(0.002)

srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(os.path.join(rundir, "admin.tmp"))
srv.listen(16)
os.rename(os.path.join(rundir, "admin.tmp"), os.path.join(rundir, "admin.sock"))
while True:
    conn, _ = srv.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
EOF
ctl_spawn python3 "$T/fake.py" "$RUNDIR"
FAKE=$!
wait_socket "$RUNDIR/admin.sock" "$FAKE" || { echo "FAIL: the fake ciovd did not start"; exit 1; }

requests() {
	[ -f "$LOG" ] && wc -l <"$LOG" || echo 0
}

# request_is JSON: the last request ciovctl sent, keys in any order
request_is() {
	_got=$(tail -n 1 "$LOG" | jq -S -c .)
	_want=$(echo "$1" | jq -S -c .)
	[ "$_got" = "$_want" ] || fail "sent $_got, expected $_want"
}

help_prints_usage_and_exits_0() {
	run 0 help && out_has '^Usage: ciovctl \[OPTIONS\] OBJECT' && out_has 'endpoint add NAME'
	run 0 endpoint help && out_has '^KEY +:= \{ pds \| mrs \| mr_bytes'
	run 0 --help && out_has 'adapter show'
	run 0 help adapter && out_has 'ciovctl adapter show'
	run 0 endpoint show -h && out_has 'endpoint del NAME \[force\]'
}

command_line_mistakes_exit_2_with_usage() {
	run 2 && err_has '^ciovctl: OBJECT is missing' && err_has '^Usage:'
	run 2 frob show && err_has "object 'frob' is unknown"
	run 2 endpoint frob && err_has "endpoint command 'frob' is unknown" &&
		err_has '^Usage: ciovctl \[OPTIONS\] endpoint'
	run 2 endpoint s && err_has "'s' is ambiguous"
	run 2 endpoint show --frob && err_has "unknown option '--frob'"
	run 2 --frob endpoint show
	run 2 endpoint show vm1 vm2 && err_has "unexpected argument 'vm2'"
	run 2 adapter show extra
}

no_daemon_exits_3_and_says_so() {
	_saved=$RUNDIR
	RUNDIR=$T/nothing-here
	run 3 endpoint show &&
		err_has "^ciovctl: cannot connect to $T/nothing-here/admin.sock: No such file or directory \(is ciovd running\?\)$"
	RUNDIR=$T/$(printf '%0120d' 0)
	run 3 endpoint show && err_has 'path longer than'
	RUNDIR=$_saved
}

add_sends_mode_owner_and_quota() {
	run 0 endpoint add vm1 mode native owner 1000:1000 quota qps 64 quota mr_bytes 4G &&
		request_is '{"cmd":"endpoint.add","name":"vm1","mode":"native","owner":"1000:1000",
			     "quota":{"qps":64,"mr_bytes":4294967296}}'
	[ -s "$T/out" ] && fail "add printed something without -j"
	run 0 ep a vm2 && request_is '{"cmd":"endpoint.add","name":"vm2"}'
}

quota_keyword_takes_several_pairs() {
	run 0 endpoint add vm1 quota qps 64 mrs 1K mode passthrough &&
		request_is '{"cmd":"endpoint.add","name":"vm1","mode":"passthrough",
			     "quota":{"qps":64,"mrs":1024}}'
}

sizes_take_power_of_1024_suffixes() {
	for _s in 7:7 1k:1024 1K:1024 2M:2097152 1GiB:1073741824 3g:3221225472 \
		1T:1099511627776 8388607T:9223370937343148032; do
		run 0 endpoint set vm1 quota mr_bytes "${_s%%:*}" &&
			request_is "{\"cmd\":\"endpoint.set\",\"name\":\"vm1\",\"quota\":{\"mr_bytes\":${_s#*:}}}"
	done
}

owner_takes_names_and_sends_numbers() {
	# ARG=SENT; "USER:" is the user's login group, as chown has it
	for _o in 1000=1000 1000:1000=1000:1000 0:5=0:5 root=0 root:root=0:0 root:=0:0; do
		run 0 endpoint set vm1 owner "${_o%=*}" &&
			request_is "{\"cmd\":\"endpoint.set\",\"name\":\"vm1\",\"owner\":\"${_o#*=}\"}"
	done
}

bad_values_exit_2_and_send_nothing() {
	_before=$(requests)
	for _args in "quota frob 1" "quota qps" "quota" "quota qps -1" "quota qps 12X" \
		"quota qps 1.5" "quota qps 9999999999999999999" "quota mr_bytes 8388608T" \
		"mode bogus" "mode" "owner" "owner nosuchuser_ciovctl" "owner :0" \
		"owner 0:nosuchgroup_ciovctl" "owner 4294967295" "qps 3" "frob"; do
		# shellcheck disable=SC2086 # split the arguments on purpose
		run 2 endpoint add vm1 $_args && err_has '^ciovctl: ' && err_has '^Usage: '
	done
	run 2 endpoint add && err_has 'NAME is missing'
	run 2 endpoint set vm1 && err_has 'nothing to set'
	run 2 endpoint add vm1 qps 3 && err_has "did you mean 'quota qps N'"
	run 2 endpoint add vm1 quota frob 1 && err_has "unknown quota key 'frob'"
	[ "$(requests)" = "$_before" ] || fail "a rejected command line reached ciovd"
}

daemon_refusal_exits_1_with_its_words() {
	run 1 endpoint add exists && err_has '^ciovctl: endpoint exists already exists$'
	[ -s "$T/out" ] && fail "a failed add printed on stdout"
	run 1 endpoint show nope && err_has '^ciovctl: no endpoint nope$'
}

show_json_is_the_endpoints_array() {
	run 0 endpoint show -j && json_is 'map(.name)' '["vm1","vm2"]' &&
		request_is '{"cmd":"endpoint.show"}'
	run 0 -j endpoint show && json_is 'length' '2'
	run 0 --json ep sh vm1 && json_is '.[0].name' '"vm1"' &&
		request_is '{"cmd":"endpoint.show","name":"vm1"}'
	run 0 endpoint show vm1 -j -p && json_is '.[0].quota.mr_bytes' '4294967296'
}

show_text_has_one_block_per_endpoint() {
	run 0 endpoint show || return
	out_has '^vm1  id 1  mode passthrough  owner 1000:1000  gid fd00:c10f::1$'
	out_has '^vm2  id 2  mode passthrough  owner 1000  gid fd00:c10f::2$'
	out_has '^    quota  pds 1/64  mrs 2/4096  mr_bytes 8M/4G  qps 0/256$'
	out_has '^    counters  ctl_ops 12  ctl_errors 1  iotlb_hits 0  iotlb_misses 0$'
	out_has '^    errors  EINVAL 1$'
	out_lacks 'EDQUOT'
	[ "$(grep -c '^[^ ]' "$T/out")" = 2 ] || fail "expected 2 endpoint blocks"
}

bare_object_shows() {
	run 0 endpoint && request_is '{"cmd":"endpoint.show"}' && out_has '^vm1 '
	run 0 ep list vm1 && request_is '{"cmd":"endpoint.show","name":"vm1"}'
}

del_sends_force_only_when_asked() {
	run 0 endpoint del vm1 force && request_is '{"cmd":"endpoint.del","name":"vm1","force":true}'
	run 0 endpoint delete vm1 && request_is '{"cmd":"endpoint.del","name":"vm1"}'
	run 0 ep d vm1 -j
	[ -s "$T/out" ] && fail "del -j printed something"
	run 2 endpoint del && err_has 'NAME is missing'
	run 2 endpoint del vm1 now && err_has "unexpected argument 'now'"
}

add_and_set_with_j_print_the_endpoint() {
	run 0 endpoint add vm3 -j && json_is '.name' '"vm3"'
	run 0 endpoint set vm3 mode native -j && json_is '.id' '3'
}

adapter_show_prints_its_facts() {
	run 0 adapter show && request_is '{"cmd":"adapter.show"}' &&
		out_has '^adapter  version 0.1.0  abi 1  endpoints 2$' &&
		out_has '^    limits  endpoints 4096  max_mr_size 1099511627776$'
	run 0 adapter -j && json_is '.limits.endpoints' '4096'
}

large_reply_is_read_whole() {
	run 0 endpoint show many -j && json_is 'length' '10000' && json_is '.[9999].name' '"ep10000"'
	[ "$(wc -c <"$T/out")" -gt 3000000 ] || fail "the reply was meant to be several MiB"
	run 0 endpoint show many && [ "$(grep -c '^ep' "$T/out")" = 10000 ] ||
		fail "text output lacks endpoints"
}

reply_in_small_pieces_is_read_whole() {
	run 0 endpoint show slow -j && json_is '.[0].name' '"slow"'
}

broken_daemon_exits_1() {
	run 1 endpoint show hangup && err_has 'closed the connection without answering'
	run 1 endpoint show garbage && err_has 'not a JSON object'
}

runtime_dir_comes_from_the_environment() {
	CIOV_RUNTIME_DIR=$RUNDIR "$CTL" endpoint show -j >"$T/out" 2>"$T/err" ||
		fail "CIOV_RUNTIME_DIR was not used"
	CIOV_RUNTIME_DIR=$T/nothing-here "$CTL" --runtime-dir "$RUNDIR" endpoint show -j \
		>"$T/out" 2>"$T/err" || fail "--runtime-dir does not override CIOV_RUNTIME_DIR"
}

t help_prints_usage_and_exits_0
t command_line_mistakes_exit_2_with_usage
t no_daemon_exits_3_and_says_so
t add_sends_mode_owner_and_quota
t quota_keyword_takes_several_pairs
t sizes_take_power_of_1024_suffixes
t owner_takes_names_and_sends_numbers
t bad_values_exit_2_and_send_nothing
t daemon_refusal_exits_1_with_its_words
t show_json_is_the_endpoints_array
t show_text_has_one_block_per_endpoint
t bare_object_shows
t del_sends_force_only_when_asked
t add_and_set_with_j_print_the_endpoint
t adapter_show_prints_its_facts
t large_reply_is_read_whole
t reply_in_small_pieces_is_read_whole
t broken_daemon_exits_1
t runtime_dir_comes_from_the_environment
finish
