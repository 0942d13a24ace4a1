#!/usr/bin/env bash
# Prints one closing line for `make test`: the .NET suites' totals (from the log test-dotnet
# wrote) plus the guest TAP results of every kernel (.vm/out/<kernel>/results), as
# "N passed, N failed, N skipped", then each kernel's vm-test / guest-test wall time.
set -euo pipefail
log=${1:-out/test-dotnet.log}
passed=0 failed=0 skipped=0
if [ -f "$log" ]; then
  while read -r f p s; do
    failed=$((failed + f)); passed=$((passed + p)); skipped=$((skipped + s))
  done < <(sed -n 's/.*Failed: *\([0-9]*\), Passed: *\([0-9]*\), Skipped: *\([0-9]*\).*/\1 \2 \3/p' "$log")
fi
# The module selftests on each Debian kernel, then under the debug kernel, and its canary control.
for tap in .vm/out/*/results/*.tap .vm/out/debug/selftests/*.tap .vm/out/debug/canary.tap; do
  [ -f "$tap" ] || continue
  passed=$((passed + $(grep -cE '^ *ok ' "$tap" || true)))
  failed=$((failed + $(grep -cE '^ *not ok ' "$tap" || true)))
done
echo "test: ${passed} passed, ${failed} failed, ${skipped} skipped"
[ -f .vm/out/kernels-summary.txt ] && cat .vm/out/kernels-summary.txt || true
