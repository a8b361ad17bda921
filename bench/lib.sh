# Shared by the bench scripts: a ciovd of their own in temporary dirs, with
# two endpoints, "server" and "client". Needs B (the build directory).
# Sets CIOV_RUNTIME_DIR and dpid; removes everything on exit.
bench_adapter() {
	rt=$(mktemp -d /tmp/ciov-bench-rt.XXXXXX)
	st=$(mktemp -d /tmp/ciov-bench-st.XXXXXX)
	export CIOV_RUNTIME_DIR=$rt
	"$B/src/adapter/ciovd" --runtime-dir "$rt" --state-dir "$st" --foreground --quiet &
	dpid=$!
	trap 'kill $dpid 2>/dev/null; wait 2>/dev/null; rm -rf "$rt" "$st"' EXIT
	for _ in $(seq 100); do [ -S "$rt/admin.sock" ] && break; sleep 0.05; done
	"$B/src/tools/ciovctl" endpoint add server >/dev/null
	"$B/src/tools/ciovctl" endpoint add client >/dev/null
}
