#!/bin/bash
# verbs_verify (a program written against <infiniband/verbs.h>) moves data
# through every opcode on ciov and checks it byte for byte. The normal
# build runs it under ciov-run; the sanitizer build runs it as linked (the
# instrumented shim cannot be preloaded ahead of the ASan runtime).
# Usage: verbs_verify.sh BUILD_DIR. Exit 0 pass, 1 fail, 77 skip.
. "$(dirname "$0")/lib.sh"
PROG=$B/tests/verbs/verbs_verify
[ -x "$PROG" ] || { echo "SKIP: no $PROG"; exit 77; }
start_ciovd

before=$FAILED
if [ "${CIOV_SANITIZE:-none}" = none ]; then
	timeout 120 "$RUN" --endpoint a "$PROG" || fail "verbs_verify under ciov-run"
else
	CIOV_ENDPOINT=a timeout 120 "$PROG" || fail "verbs_verify"
fi
report data_verified_through_libibverbs_api "$before"
finish
