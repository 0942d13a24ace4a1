#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The debug kernel's verdict on one guest run, from its logs: counts each
# detector's reports and any kmemleak object. guest.sh runs it after every
# debug guest; test.sh also runs it on copies of a passing run's logs with a
# report planted, which must fail (so a pattern that stops matching, or a log
# it stops reading, fails make vm-test).
#
#   kmodule/vm/debug-kernel/detectors.sh <results dir>
#
# Reads dmesg.txt and console.log (the larger count of the two: dmesg has
# everything if the 4 MB buffer held it; the serial console, at loglevel 5,
# survives a guest that died) and kmemleak.txt (hook-after.sh: after kingest
# was unloaded and memory scanned twice). Writes one "<detector> <count>"
# line each to <results dir>/verdict.txt. A lockdep splat is also a
# WARNING:, and a sleep in atomic context also a BUG:: counted in both.
# Exit status: 0 no report and no leak; 2 any report or kmemleak object;
# 1 no kmemleak.txt (kmemleak off, or the guest died before the scan).
set -uo pipefail
results=${1:?usage: detectors.sh <results dir>}

count() {
	local a b
	a=$(grep -cE "$1" "$results/dmesg.txt" 2>/dev/null || true)
	b=$(grep -cE "$1" "$results/console.log" 2>/dev/null || true)
	echo $((${a:-0} > ${b:-0} ? ${a:-0} : ${b:-0}))
}
kasan=$(count 'BUG: KASAN: ')
lockdep=$(count 'WARNING: (possible (circular|recursive) locking|inconsistent lock state|possible irq lock inversion|suspicious RCU usage|lock held when returning|bad unlock balance|held lock freed|Nested lock was not taken)|BUG: (held lock freed|MAX_LOCKDEP|lock held when returning)|INFO: lockdep is turned off')
ubsan=$(count 'UBSAN: ')
atomic=$(count 'BUG: (sleeping function called from invalid context|scheduling while atomic)')
bug=$(count 'BUG: ')
warning=$(count 'WARNING: ')
oops=$(count 'Oops|general protection fault|Kernel panic')
leaks=$(grep -c '^unreferenced object' "$results/kmemleak.txt" 2>/dev/null || true)
[ -f "$results/kmemleak.txt" ] || leaks=missing
{
	echo "kasan $kasan"
	echo "lockdep $lockdep"
	echo "ubsan $ubsan"
	echo "atomic_sleep $atomic"
	echo "bug $bug"
	echo "warning $warning"
	echo "oops $oops"
	echo "kmemleak $leaks"
} >"$results/verdict.txt"
rc=0
if [ "$leaks" = missing ]; then
	echo "debug-guest: FAIL: no kmemleak report (kmemleak off, or the guest died before the scan)" >&2
	rc=1
fi
if [ "$kasan$lockdep$ubsan$atomic$bug$warning$oops" != 0000000 ] || { [ "$leaks" != missing ] && [ "$leaks" != 0 ]; }; then
	echo "debug-guest: FAIL: the debug kernel reported: $(tr '\n' ' ' <"$results/verdict.txt")" >&2
	grep -hE -A25 'BUG: |WARNING: |UBSAN: |Oops|general protection' "$results/dmesg.txt" 2>/dev/null | head -80 >&2 || true
	[ "$leaks" = 0 ] || [ "$leaks" = missing ] || head -40 "$results/kmemleak.txt" >&2
	rc=2
fi
exit $rc
