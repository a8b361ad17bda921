#!/bin/bash
# Runs the test suite in each build directory given and prints one summary
# line: "N passed, N failed" (", N skipped" when any skipped).
set -u
pass=0 fail=0 skip=0
for b in "$@"; do
	echo "== meson test in $b"
	meson test -C "$b" --print-errorlogs --num-processes 2 --timeout-multiplier 3 \
		${CIOV_TEST_ARGS:-} >"$b/check.out" 2>&1
	tail -n 30 "$b/check.out" | grep -E '^(Ok|Fail|Skipped|Timeout|Expected|Unexpected)' || true
	grep -E '(FAIL|TIMEOUT|ERROR) ' "$b/check.out" | grep -vE '^(Ok|Fail|Timeout):' | head -40 || true
	log="$b/meson-logs/testlog.json"
	[ -f "$log" ] || { echo "no test log in $b"; fail=$((fail + 1)); continue; }
	# Counts on the last line; before it, why each skipped test skipped.
	counts=$(python3 - "$log" <<'PY'
import json, sys
p = f = s = 0
for line in open(sys.argv[1]):
    t = json.loads(line)
    r = t["result"]
    if r in ("OK", "EXPECTEDFAIL"):
        p += 1
    elif r == "SKIP":
        s += 1
        why = [l for l in (t.get("stdout") or "").splitlines() if "skip" in l.lower()]
        print("skipped %s: %s" % (t["name"], why[-1] if why else "(no reason printed)"))
    else:
        f += 1
print(p, f, s)
PY
)
	echo "$counts" | sed '$d'
	read -r p f s <<<"$(echo "$counts" | tail -n 1)"
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
done
line="$pass passed, $fail failed"
[ "$skip" -gt 0 ] && line="$line, $skip skipped"
echo "$line"
[ "$fail" -eq 0 ]
