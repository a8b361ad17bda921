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
	read -r p f s < <(python3 - "$log" <<'PY'
import json, sys
p = f = s = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL"): p += 1
    elif r == "SKIP": s += 1
    else: f += 1
print(p, f, s)
PY
)
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	# Say why tests skipped.
	grep -h -A3 'SKIP' "$b/check.out" | grep -iE 'skip(ped)?:|reason' | sort -u | head -20 || true
done
line="$pass passed, $fail failed"
[ "$skip" -gt 0 ] && line="$line, $skip skipped"
echo "$line"
[ "$fail" -eq 0 ]
