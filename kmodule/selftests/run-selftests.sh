#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs every kingest selftest (TAP) in the guest and writes each output to
# $KINGEST_RESULTS/<test>.tap plus a summary. Exit status: 0 only if every
# test program passed. Run by kmodule/vm/run-guest.sh with the module loaded.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export KINGEST_SELFTEST_BIN=${KINGEST_SELFTEST_BIN:-$root/.vm/out/selftests}
results=${KINGEST_RESULTS:-/tmp/kingest-results}
mkdir -p "$results"
tests="abi_test ioctl_test ring_test genl_test signal_test udp_test upcall_test proc_test sensors_test"
failed=0
summary=$results/summary.txt
: >"$summary"
run() {
	local name=$1; shift
	local start=$(date +%s)
	# GUEST_TIME_SCALE: the debug kernel's run (KASAN+lockdep under TCG) sets 4.
	timeout $((120 * ${GUEST_TIME_SCALE:-1})) "$@" >"$results/$name.tap" 2>&1
	local rc=$?
	local passed=$(grep -c '^ok ' "$results/$name.tap")
	local notok=$(grep -c '^not ok ' "$results/$name.tap")
	printf '%-14s rc=%d ok=%d not_ok=%d %ds\n' "$name" "$rc" "$passed" "$notok" $(( $(date +%s) - start )) | tee -a "$summary"
	if [ "$rc" != 0 ] || [ "$notok" != 0 ]; then
		failed=1
		grep -E '^(not ok|#|Bail)' "$results/$name.tap" | sed "s/^/  $name: /"
	fi
}
for t in $tests; do
	run "$t" "$KINGEST_SELFTEST_BIN/$t"
done
run unload_test bash "$here/unload_test.sh"
echo "selftests: $([ $failed = 0 ] && echo PASS || echo FAIL)" | tee -a "$summary"
exit $failed
