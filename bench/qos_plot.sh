#!/bin/bash
# The rate scheduler over time, as a picture. Four tenants c1..c4 each
# drive a saturating RDMA WRITE flow (ciov-perf write bw, 64 KiB, 4096
# outstanding) to their own server s1..s4 for the whole run, while ciovctl
# changes the rate settings every 2 s, one knob at a time, each staying:
#   t=0   defaults (equal weights)       t=8   c4 tx_priority 1 (c2 starves)
#   t=2   tx_weight 1:2:4:3              t=10  c2 tx_share 0.1 T (c2 is back)
#   t=4   c3 tx_max 0.2 T                t=12  every setting back to default
#   t=6   group g = c2+c4, tx_max 0.15 T t=14  end
# T is the four flows' total over t=0.5..2 s of this same run, so the caps
# and the guarantee bind on any machine. A sampler reads every endpoint's
# tx_bytes every 100 ms (one `ciovctl -j endpoint show` for all of them).
# Writes bench/out/qos_timeline.json (the samples, the changes with the
# times they took effect, the limits, the per-phase means) and
# bench/out/qos_timeline.png (gnuplot: one line per tenant, a marker at each
# change), and prints one JSON line: per phase, each tenant's Gbit/s and
# share, and the ratios that show the change took effect (c3 over its cap,
# c2 over c1 against their weights, ...) next to what the settings call for.
# Not a test: it never fails on a number. Without jq or gnuplot it says so
# and prints a "skipped" line. QOS_PLOT_OUT: another output directory.
set -uo pipefail
B=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
out=${QOS_PLOT_OUT:-$here/out}
CIOVD=$B/src/adapter/ciovd
CTL=$B/src/tools/ciovctl
PERF=$B/src/tools/perf/ciov-perf
EPS="c1 c2 c3 c4"
INTERVAL_US=100000 # sampling period
PHASE_MS=2000	   # between two changes
END_MS=14000	   # the scenario's length
SETTLE_S=0.4	   # a phase's mean leaves out this long after its change

note() { echo "qos_plot: $*" >&2; }
skip() {
	note "skipped: $1"
	printf '{"bench":"qos_timeline","skipped":"%s"}\n' "$1"
	exit 0
}
fail() {
	note "error: $1"
	printf '{"bench":"qos_timeline","error":"%s"}\n' "$1"
	exit 1
}
command -v jq >/dev/null || skip "jq is not installed"
command -v gnuplot >/dev/null ||
	skip "gnuplot is not installed (Debian: apt-get install gnuplot-nox; make bench installs it)"
gnuplot -e 'set terminal' 2>&1 | grep -qw pngcairo && term="pngcairo size 1280,660 font 'sans,10'" ||
	term="png size 1280,660"
[ -x "$CIOVD" ] && [ -x "$CTL" ] && [ -x "$PERF" ] || skip "ciovd, ciovctl or ciov-perf not built in $B"
mkdir -p "$out" || fail "cannot create $out"

work=$(mktemp -d /tmp/ciov-qos-plot.XXXXXX)
export CIOV_RUNTIME_DIR=$work/rt
mkdir "$work/rt" "$work/st"
cleanup() {
	kill $(jobs -p) 2>/dev/null
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
"$CIOVD" --runtime-dir "$work/rt" --state-dir "$work/st" --foreground --quiet &
for _ in $(seq 200); do [ -S "$work/rt/admin.sock" ] && break; sleep 0.05; done
for e in $EPS; do
	"$CTL" endpoint add "s${e#c}" >/dev/null && "$CTL" endpoint add "$e" >/dev/null ||
		fail "ciovd did not start or refused the endpoints"
done

# Clocks in microseconds since the epoch, without a fork.
now_us() { NOW=${EPOCHREALTIME/[.,]/}; }
sleep_until() {
	local d frac
	now_us
	d=$(($1 - NOW))
	[ $d -gt 0 ] || return 0
	printf -v frac %06d $((d % 1000000))
	sleep "$((d / 1000000)).$frac"
}

# The sampler: every INTERVAL_US from START, one line per sample with the
# time before and after the call and every endpoint's counters. A late
# sample skips the ticks it missed rather than bunching up.
sampler() {
	local next=$START t0 j
	trap 'exit 0' TERM # between two commands: never half a line
	while :; do
		now_us
		t0=$NOW
		j=$("$CTL" -j endpoint show) || j=null
		now_us
		printf '{"t0_us":%s,"t1_us":%s,"endpoints":%s}\n' "$t0" "$NOW" "$j"
		while [ "$next" -le "$NOW" ]; do next=$((next + INTERVAL_US)); done
		sleep_until "$next"
	done >"$work/samples.jsonl"
}

# Bytes the four clients have sent so far.
sent() { "$CTL" -j endpoint show | jq '[.[] | select(.name | test("^c[0-9]+$")) | .traffic.tx_bytes] | add // 0'; }

# ctl ARGS...: one ciovctl command of the current change, kept for the JSON.
cmds=()
failed=()
ctl() {
	cmds+=("ciovctl $*")
	"$CTL" "$@" >/dev/null || {
		failed+=("ciovctl $*")
		note "ciovctl $* failed"
	}
}
# change T_MS LABEL CHECK...: records the change whose commands just ran,
# with the time they had all returned, and what should show if they took
# effect. A CHECK is NUM:DEN:WANT[:NAME]: over the phase, the Gbit/s of NUM
# (endpoints joined by +) divided by DEN (an endpoint, or a rate in Gbit/s
# called NAME) should be WANT (a number, or >=number).
change() {
	local t=$1 lab=$2
	shift 2
	now_us
	jq -nc --argjson t "$t" --argjson at "$(((NOW - START) / 1000))" --arg lab "$lab" \
		--arg checks "$(printf '%s\n' "$@")" --args '{t_s: ($t / 1000), applied_s: ($at / 1000), label: $lab,
		commands: $ARGS.positional, checks: ($checks | split("\n") | map(select(. != "")))}' \
		"${cmds[@]}" >>"$work/changes.jsonl"
	[ ${#failed[@]} -eq 0 ] ||
		jq -nc --argjson t "$t" '{t_s: ($t / 1000), failed: $ARGS.positional}' --args "${failed[@]}" \
			>>"$work/failed.jsonl"
	cmds=()
	failed=()
}
# limit NODE KIND GBIT FROM_MS TO_MS: a cap or guarantee to draw.
limit() {
	jq -nc --arg n "$1" --arg k "$2" --argjson g "$3" --argjson f "$4" --argjson t "$5" \
		'{node: $n, kind: $k, gbit_per_s: $g, from_s: ($f / 1000), to_s: ($t / 1000)}' >>"$work/limits.jsonl"
}
at() { sleep_until $((START + $1 * 1000)); }
# frac F: F x T in Mbit/s (whole), for ciovctl.
frac() { awk -v t="$T" -v f="$1" 'BEGIN { printf "%.0f", t * 8 / 1e6 * f }'; }
# gbit MBIT DIGITS: in Gbit/s.
gbit() { awk -v m="$1" -v d="$2" 'BEGIN { printf "%.*f", d, m / 1000 }'; }

# The flows: servers first, then the clients, the clock starting with them.
# They run a second past the end; the script stops them at the end.
port=$((23000 + RANDOM % 10000))
secs=$((END_MS / 1000 + 1))
for e in $EPS; do
	i=${e#c}
	CIOV_ENDPOINT=s$i "$PERF" write bw --size 65536 --duration $secs --port $((port + i)) \
		>/dev/null 2>&1 &
done
sleep 0.3
now_us
START=$NOW
for e in $EPS; do
	i=${e#c}
	CIOV_ENDPOINT=$e "$PERF" write bw --size 65536 --duration $secs --tx-depth 4096 \
		--port $((port + i)) --json 127.0.0.1 >"$work/$e.json" 2>"$work/$e.err" &
done
sampler &
spid=$!

change 0 "defaults (equal weights)" c2:c1:1 c3:c1:1 c4:c1:1
at 500
now_us
b0=$(sent) t0=$NOW
at $((PHASE_MS - 30))
now_us
b1=$(sent) t1=$NOW
T=$(awk -v b="$((b1 - b0))" -v t="$((t1 - t0))" 'BEGIN { printf "%.0f", b / (t / 1e6) }') # bytes/s
[ "$T" -gt 125000000 ] ||
	fail "the four flows moved $((b1 - b0)) bytes in t=0.5..2 s: did ciov-perf start? ($(head -c 300 "$work/c1.err"))"
note "T = $(gbit "$(frac 1)" 1) Gbit/s (the four flows over t=0.5..2 s, default settings)"
cap=$(frac 0.2) gcap=$(frac 0.15) share=$(frac 0.1)

at $PHASE_MS
ctl rate set c1 tx_weight 1
ctl rate set c2 tx_weight 2
ctl rate set c3 tx_weight 4
ctl rate set c4 tx_weight 3
change $PHASE_MS "tx_weight 1:2:4:3" c2:c1:2 c3:c1:4 c4:c1:3

# c3 is backlogged, so it sits at its cap; the others share the rest by weight.
at $((2 * PHASE_MS))
ctl rate set c3 tx_max "${cap}mbit"
change $((2 * PHASE_MS)) "c3 tx_max $(gbit "$cap" 1) Gbit/s (0.2 T)" \
	"c3:$(gbit "$cap" 3):1:c3 tx_max" c2:c1:2 c4:c1:3
limit c3 tx_max "$(gbit "$cap" 3)" $((2 * PHASE_MS)) $((6 * PHASE_MS))

# The group's cap holds for the sum; inside it, c2 and c4 keep their weights.
at $((3 * PHASE_MS))
ctl rate add g tx_max "${gcap}mbit"
ctl rate set c2 parent g
ctl rate set c4 parent g
change $((3 * PHASE_MS)) "group g = c2+c4, tx_max $(gbit "$gcap" 1) Gbit/s (0.15 T)" \
	"c2+c4:$(gbit "$gcap" 3):1:g tx_max" c4:c2:1.5
limit g tx_max "$(gbit "$gcap" 3)" $((3 * PHASE_MS)) $((6 * PHASE_MS))

# Strict priority: c4 takes all that g may send, c2 starves.
at $((4 * PHASE_MS))
ctl rate set c4 tx_priority 1
change $((4 * PHASE_MS)) "c4 tx_priority 1 (in g)" \
	"c4:$(gbit "$gcap" 3):1:g tx_max" "c2:$(gbit "$gcap" 3):0:g tx_max"

# A guarantee is served whatever the priority: c2 gets it back from c4.
at $((5 * PHASE_MS))
ctl rate set c2 tx_share "${share}mbit"
change $((5 * PHASE_MS)) "c2 tx_share $(gbit "$share" 1) Gbit/s (0.1 T)" \
	"c2:$(gbit "$share" 3):>=1:c2 tx_share" "c2+c4:$(gbit "$gcap" 3):1:g tx_max"
limit c2 tx_share "$(gbit "$share" 3)" $((5 * PHASE_MS)) $((6 * PHASE_MS))

at $((6 * PHASE_MS))
ctl rate set c1 tx_weight 0
ctl rate set c2 noparent tx_share 0 tx_weight 0
ctl rate set c3 tx_max 0 tx_weight 0
ctl rate set c4 noparent tx_priority 0 tx_weight 0
ctl rate del g
change $((6 * PHASE_MS)) "all back to default" c2:c1:1 c3:c1:1 c4:c1:1

at $END_MS
kill $spid
wait $spid 2>/dev/null
for e in $EPS; do [ -s "$work/$e.err" ] && note "$e: $(tail -n 1 "$work/$e.err")"; done
kill $(jobs -p) 2>/dev/null # the flows and ciovd; cleanup waits for them
touch "$work/limits.jsonl" "$work/failed.jsonl"

json=$out/qos_timeline.json
png=$out/qos_timeline.png
dat=$work/timeline.tsv
jq -n --slurpfile s "$work/samples.jsonl" --slurpfile c "$work/changes.jsonl" \
	--slurpfile l "$work/limits.jsonl" --slurpfile f "$work/failed.jsonl" \
	--argjson start "$START" --argjson endms "$END_MS" --argjson settle "$SETTLE_S" \
	--argjson interval "$INTERVAL_US" --argjson T "$T" --arg eps "$EPS" '
def r($n): . * pow(10; $n) | round / pow(10; $n);
($eps | split(" ")) as $eps |
# Each sample at the middle of its ciovctl call, seconds from the start.
[$s[] | select(.endpoints | type == "array") |
 {t: (((.t0_us + .t1_us) / 2 - $start) / 1e6),
  b: (.endpoints | map(select(.name | IN($eps[])) | {(.name): .traffic.tx_bytes}) | add)}] as $pts |
[range(1; $pts | length) as $i | $pts[$i - 1] as $a | $pts[$i] as $z |
 {t0: $a.t, t1: $z.t, bytes: ($eps | map({(.): ($z.b[.] - $a.b[.])}) | add)}] as $iv |
def gbit($bytes; $dt): $bytes * 8 / $dt / 1e9;
# A phase: from SETTLE_S after its change took effect to the next change.
[$c | sort_by(.t_s) | to_entries[] | .key as $k | .value as $ch |
 ($ch.applied_s + $settle) as $from |
 (($c | sort_by(.t_s))[$k + 1].t_s // ($endms / 1000)) as $to |
 [$iv[] | select(.t0 >= $from and .t1 <= $to)] as $in |
 ($in | map(.t1 - .t0) | add // 0) as $dt |
 ($eps | map({(.): (if $dt > 0 then gbit([$in[].bytes[.]] | add; $dt) else null end)}) | add) as $g |
 ($g | [.[]] | add // 0) as $tot |
 {t_s: $ch.t_s, set: $ch.label, from_s: ($from | r(2)), to_s: $to, total_gbit_per_s: ($tot | r(2)),
  gbit_per_s: ($g | map_values(if . == null then null else r(2) end)),
  share: ($g | map_values(if $tot > 0 and . != null then . / $tot | r(3) else null end)),
  checks: [$ch.checks[] | split(":") as $p |
    def val($x): if $x | test("^[0-9.]+$") then $x | tonumber else $x | split("+") | map($g[.] // 0) | add end;
    ($p[2] | ltrimstr(">=") | tonumber) as $w |
    (if val($p[1]) > 0 then val($p[0]) / val($p[1]) else null end) as $got |
    {what: "\($p[0]) / \($p[3] // $p[1])", want: (if $p[2] | startswith(">=") then $p[2] else $w end),
     got: (if $got == null then null else $got | r(3) end),
     ok: ($got != null and (if $w == 0 then $got <= 0.05
                            elif ($p[2] | startswith(">=")) then $got >= 0.9 * $w
                            else ($got / $w - 1 | fabs) <= 0.1 end))}]}] as $ph |
[$iv | sort_by(.t1 - .t0) | .[] | (.t1 - .t0) * 1000] as $dts |
{bench: "qos_timeline",
 flows: "ciov-perf write bw --size 65536 --tx-depth 4096, client cN to server sN, all on one ciovd (loopback)",
 endpoints: $eps, interval_ms: ($interval / 1000), settle_s: $settle, end_s: ($endms / 1000),
 t_gbit_per_s: (gbit($T; 1) | r(2)),
 t_note: "T: the four flows total over t=0.5..2 s with default settings; the caps and the guarantee are fractions of it",
 checks_note: "per phase, the Gbit/s of the first term over the second (an endpoint or a setting) against what the settings call for; ok: within 10% (want 0: at most 0.05; want >=x: at least 0.9 x)",
 interval_ms_p50: ($dts[($dts | length) / 2 | floor] | r(1)), interval_ms_max: ($dts[-1] | r(1)),
 changes: ($c | sort_by(.t_s)), failed_commands: $f, limits: $l, phases: $ph,
 samples: [$iv[] | (.t1 - .t0) as $dt |
   {t_s: ((.t0 + .t1) / 2 | r(3)), dt_s: ($dt | r(4)),
    gbit_per_s: (.bytes | map_values(gbit(.; $dt) | r(3))),
    total_gbit_per_s: ([.bytes[]] | add | gbit(.; $dt) | r(3))}]}
' >"$json" || fail "could not build $json"

# The plot, two panels on one time axis: above, the four flows' total and
# a label for each change; below, one line per tenant, c2+c4 while they
# are group g, each cap or guarantee as a dotted segment in its node's
# colour. A dashed line marks each change when its commands had returned.
jq -r '
(.limits | map(select(.node == "g"))[0]) as $g |
"t\t" + (.endpoints | join("\t")) + "\ttotal\tg = c2+c4",
(.samples[] | .t_s as $t |
 [$t] + [.gbit_per_s[]] + [.total_gbit_per_s] +
 [if $g != null and $t >= $g.from_s and $t < $g.to_s then .gbit_per_s.c2 + .gbit_per_s.c4 else "NaN" end] |
 map(tostring) | join("\t"))' "$json" >"$dat"
color='{"c1":"#1b9e77","c2":"#d95f02","c3":"#7570b3","c4":"#e7298a","g":"#000000"}'
ytop=$(jq '[.samples[].total_gbit_per_s] | max * 2 | ceil' "$json")
ystep=$(jq -n --argjson y "$ytop" '$y / 4 | pow(10; log10 | floor) as $m | (. / $m | ceil) * $m')
ymax=$(jq '[.samples[].gbit_per_s[]] | max * 1.15 | ceil' "$json")
{
	cat <<EOF
set terminal $term
set output "$png"
set datafile separator "\t"
set multiplot title "ciovd rate scheduler: 4 saturating RDMA WRITE flows (64 KiB, loopback), one setting changed every 2 s" noenhanced
set lmargin at screen 0.07
set rmargin at screen 0.98
set xrange [0:$((END_MS / 1000))]
set xtics 1
set grid xtics ytics lc rgb "#e8e8e8"
set tmargin at screen 0.92
set bmargin at screen 0.63
set format x ""
set ylabel "total (Gbit/s)"
set yrange [0:$ytop]
set ytics 0, $ystep
unset key
EOF
	jq -r '
	def wrap($w): reduce (split(" ")[]) as $x ([""];
		if (.[-1] | length) == 0 then .[-1] = $x
		elif (.[-1] | length) + 1 + ($x | length) > $w then . + [$x]
		else .[-1] += " " + $x end) | join("\\n");
	.changes[] |
	(if .t_s > 0 then "set arrow from \(.applied_s), graph 0 to \(.applied_s), graph 1 nohead dt 2 lc rgb \"#707070\"" else empty end),
	"set label \"\("t=\(.t_s) s: \(.label)" | wrap(23))\" at \(.t_s + 0.06), graph 0.96 left front font \",9\" noenhanced"' "$json"
	printf 'plot "%s" using 1:6 with lines lw 1.5 lc rgb "#606060"\n' "$dat"
	cat <<EOF
unset label
unset arrow
set tmargin at screen 0.61
set bmargin at screen 0.15
set format x "%g"
set xlabel "time (s)"
set ylabel "throughput per 100 ms (Gbit/s)"
set yrange [0:$ymax]
set ytics autofreq
set key at screen 0.5, screen 0.035 center horizontal noenhanced
EOF
	jq -r --argjson col "$color" '
	(.changes[] | select(.t_s > 0) |
	 "set arrow from \(.applied_s), graph 0 to \(.applied_s), graph 1 nohead dt 2 lc rgb \"#707070\""),
	(.limits[] |
	 "set arrow from \(.from_s), \(.gbit_per_s) to \(.to_s), \(.gbit_per_s) nohead dt 3 lw 1.5 lc rgb \"\($col[.node])\" front",
	 "set label \"\(.node) \(.kind)\" at \(.to_s - 0.05), \(.gbit_per_s) right offset 0,0.7 font \",8\" tc rgb \"\($col[.node])\" noenhanced front")' "$json"
	printf 'plot'
	n=2
	for e in $EPS; do
		printf ' "%s" using 1:%d with lines lw 2 lc rgb "%s" title columnhead, \\\n' \
			"$dat" $n "$(jq -rn --argjson c "$color" --arg e "$e" '$c[$e]')"
		n=$((n + 1))
	done
	printf ' "%s" using 1:%d with lines lw 1.5 dt 2 lc rgb "#000000" title columnhead\n' "$dat" $((n + 1))
	echo "unset multiplot"
} >"$work/plot.gp"
gnuplot "$work/plot.gp" || fail "gnuplot failed on $work/plot.gp"
note "wrote $json and $png"

jq -c --arg json "$json" --arg png "$png" '
{bench, endpoints: (.endpoints | length), interval_ms_p50, interval_ms_max, samples: (.samples | length),
 t_gbit_per_s,
 phases: [.phases[] | {t_s, set, total_gbit_per_s, gbit_per_s, share,
   checks: [.checks[] | "\(.what) = \(.got) (want \(.want))"]}],
 checks_ok: "\([.phases[].checks[] | select(.ok)] | length)/\([.phases[].checks[]] | length)",
 failed_commands: (.failed_commands | length), json: $json, png: $png}' "$json"
