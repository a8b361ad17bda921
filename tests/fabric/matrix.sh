#!/bin/bash
# Across two hosts (veth), every RC opcode at sizes around the path MTU and
# well past it, bandwidth and latency mode, with ciov-perf verifying every
# byte; then UD SENDs; then the same over IPv6. Each run must complete and
# report a non-zero figure.
. "$(dirname "$0")/lib.sh"
fab_hosts 2


P=$PMTU
for t in write read send; do
	for s in 1 $((P - 1)) $P $((P + 1)) $((3 * P + 5)) 65536 1048576; do
		fab_run "$t bw $s" $t bw --size $s --iters 40
	done
	fab_run "$t lat 8" $t lat --size 8 --iters 200
done
fab_run "atomic bw" atomic bw --iters 200
fab_run "atomic lat" atomic lat --iters 200
fab_run "write bw 4 QPs" write bw --qps 4 --size 65536 --iters 100
fab_run "send bw event mode" send bw --size 4096 --iters 200 --event
[ "$(fab_counter A timeouts)" = 0 ] || fail "timeouts on a lossless link: $(fab_counter A timeouts)"
[ "$(fab_counter B icrc_errors)" = 0 ] || fail "ICRC errors on a clean link"
[ "$(fab_counter B rcv_pkts)" -gt 1000 ] || fail "B received almost nothing"
for h in A B; do fab_stop $h; done
exit $FAB_FAILED
