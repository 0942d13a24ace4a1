#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The module's tests under the debug kernel (KASAN, lockdep, kmemleak, UBSAN,
# DEBUG_ATOMIC_SLEEP): make -C kmodule vm-test-debug runs `canary selftests`,
# the top-level make vm-test `canary selftests scenario`, make guest-test-debug
# `scenario`.
#
#   kmodule/vm/debug-kernel/test.sh [canary] [selftests] [scenario]
#
#   (always)   build the debug kernel (build.sh; cached outside the clone),
#              kingest.ko against its tree from a copy of kmodule/ (W=1:
#              any warning fails) and the canary module
#   canary     positive control: the canary commits a KASAN out-of-bounds
#              read and use-after-free, a lockdep lock inversion, a sleep in
#              atomic context, a UBSAN shift and a kmemleak leak in the
#              harness (guest.sh). Passes only if the harness's verdict is
#              "fail" and every one of those reports is there.
#   selftests  kmodule/selftests/run-selftests.sh (every TAP test, the 50
#              load/unload cycles) in the harness: must pass with no report
#              and no leak after kingest is unloaded
#   scenario   tests/guest/run.sh (the six-channel end-to-end scenario, with
#              the daemon in the guest, SCENARIO_MODE=debug) in the harness:
#              same verdict; needs make build
# After selftests and scenario pass, detectors.sh must fail copies of their
# logs with a report planted (planted_reports_fail).
#
# Results: .vm/out/debug/<step>/ (guest.sh's files); times in
# .vm/out/debug/times.txt. Settings: INGEST_DEBUG_KERNEL_CACHE (the kernel
# cache, default /var/cache/ingest/debug-kernel), VM_TIMEOUT (per guest),
# GUEST_TIME_SCALE (the waits' limits multiplier, default 4), DEBUG_KILLS (the
# scenario's SIGKILLs, default 1).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
kmod=$root/kmodule
work=$root/.vm/debug
out=$root/.vm/out/debug
steps=${*:-canary selftests}
mkdir -p "$work" "$out"
times=$out/times.txt
: >"$times"
die() { echo "debug-test: FAIL: $*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
note() { echo "$1 $2 s" | tee -a "$times"; }

for s in $steps; do
	case $s in canary | selftests | scenario) ;; *) die "unknown step '$s' (canary, selftests, scenario)" ;; esac
done

# ---------------------------------------------------------------- kernel
t=$(now)
kinfo=$(bash "$here/build.sh") || die "the debug kernel did not build"
note kernel-build "$(since "$t")"
tree=$(sed -n 's/^tree=//p' <<<"$kinfo")
export DEBUG_KERNEL_IMAGE=$(sed -n 's/^bzImage=//p' <<<"$kinfo")
release=$(sed -n 's/^release=//p' <<<"$kinfo")
echo "debug-test: kernel $release ($DEBUG_KERNEL_IMAGE)"

# ---------------------------------------------------------------- modules
# A copy of kmodule/: the objects of the Debian-kernel build stay untouched.
build_ext() { # <name> <source dirs...>: copy into $work/<name> and build W=1 against the tree
	local name=$1 dst=$work/$1
	shift
	rm -rf "$dst"
	mkdir -p "$dst"
	cp -a "$@" "$dst/"
	make -C "$tree" M="$dst" W=1 modules >"$out/build-$name.txt" 2>&1 ||
		{ cat "$out/build-$name.txt"; die "$name does not build against the debug kernel"; }
	if grep -E ': (warning|error):' "$out/build-$name.txt"; then
		die "$name: compiler warnings against the debug kernel (W=1), see $out/build-$name.txt"
	fi
}
t=$(now)
build_ext kmodule "$kmod/Kbuild" "$kmod/src" "$kmod/include"
export KINGEST_KO=$work/kmodule/kingest.ko
note module-build "$(since "$t")"
echo "debug-test: kingest.ko built against the debug tree, W=1 clean"

verdict_of() { sed -n "s/^$2 //p" "$1/verdict.txt" 2>/dev/null; }

# The judge must fail a run like this one had the kernel reported: detectors.sh on copies of a
# passing run's logs with one planted report each (in dmesg.txt or on the console, the formats
# the kernel prints), a kmemleak object, and no kmemleak report. Seconds, no guest: it proves
# the selftests' and the scenario's verdicts, not only the canary's, can fail.
planted_reports_fail() { # <results dir of a passing run>
	local src=$1 tmp n=0 bad=0 want got log line what
	tmp=$(mktemp -d)
	while IFS='|' read -r log want line; do
		rm -rf "$tmp/r" && mkdir "$tmp/r"
		cp "$src/dmesg.txt" "$src/console.log" "$src/kmemleak.txt" "$tmp/r/" 2>/dev/null
		case $log in
		clean) ;;
		none) rm -f "$tmp/r/kmemleak.txt" ;;
		*) echo "$line" >>"$tmp/r/$log" ;;
		esac
		got=0
		bash "$here/detectors.sh" "$tmp/r" >/dev/null 2>&1 || got=$?
		n=$((n + 1))
		case $log in
		clean) what="the logs unchanged" ;;
		none) what="no kmemleak.txt" ;;
		*) what="${line#\[*\] } in $log" ;;
		esac
		if [ "$got" = "$want" ]; then
			echo "ok $n - $what: exit $got"
		else
			echo "not ok $n - $what: exit $got, wanted $want"
			bad=1
		fi
	done <<'PLANTED'
clean|0|
dmesg.txt|2|[  812.123456] BUG: KASAN: slab-out-of-bounds in kingest_ring_read+0x1c4/0x2e0 [kingest]
console.log|2|[  812.123456] BUG: KASAN: use-after-free in upcall_cleanup+0x28/0x60 [kingest]
dmesg.txt|2|[  812.123456] WARNING: possible circular locking dependency detected
console.log|2|[  812.123456] WARNING: inconsistent lock state
dmesg.txt|2|[  812.123456] UBSAN: shift-out-of-bounds in kmodule/src/sensors.c:120:21
dmesg.txt|2|[  812.123456] BUG: sleeping function called from invalid context at kernel/locking/mutex.c:580
console.log|2|[  812.123456] WARNING: CPU: 1 PID: 642 at kmodule/src/ring.c:301 kingest_ring_release+0x90/0xb0 [kingest]
dmesg.txt|2|[  812.123456] general protection fault, probably for non-canonical address 0xdffffc0000000001: 0000 [#1] PREEMPT SMP KASAN
kmemleak.txt|2|unreferenced object 0xffff888012345678 (size 64):
none|1|
PLANTED
	rm -rf "$tmp"
	[ $bad = 0 ] || die "detectors.sh passed a planted report on $src's logs"
	echo "debug-test: every planted report failed the verdict on $(basename "$src")'s logs"
}

# ---------------------------------------------------------------- canary
run_canary() {
	local res=$out/canary rc=0 fail=0 n=0
	build_ext canary "$here/canary/Kbuild" "$here/canary/kingest_canary.c"
	rm -rf "$res"
	t=$(now)
	VM_NO_MODULE=1 KINGEST_GUEST_ENV_CANARY_KO=$work/canary/kingest_canary.ko \
		bash "$here/guest.sh" "$here/canary.sh" "$res" >"$out/canary.log" 2>&1 || rc=$?
	note canary-guest "$(since "$t")"
	: >"$out/canary.tap"
	check() { # <0 if fine> <what>
		n=$((n + 1))
		local r="ok"
		[ "$1" = 0 ] || { r="not ok"; fail=1; }
		echo "$r $n - $2" | tee -a "$out/canary.tap"
	}
	has() { grep -qE "$1" "$res/dmesg.txt" 2>/dev/null; }
	printf 'TAP version 13\n1..9\n' | tee -a "$out/canary.tap"
	check "$([ "$(cat "$res/script.rc" 2>/dev/null)" = 0 ]; echo $?)" "every canary load ran (script exit 0)"
	check "$([ "$rc" = 2 ] && grep -qx 'verdict fail' "$res/verdict.txt"; echo $?)" \
		"the harness's verdict on the canary is fail (exit $rc)"
	check "$(has 'BUG: KASAN: slab-out-of-bounds in canary_oob'; echo $?)" "KASAN reported the out-of-bounds read"
	check "$(has 'BUG: KASAN: use-after-free in canary_uaf'; echo $?)" "KASAN reported the use-after-free"
	check "$(has 'WARNING: possible circular locking dependency detected'; echo $?)" \
		"lockdep reported the lock inversion"
	check "$(has 'BUG: sleeping function called from invalid context'; echo $?)" \
		"DEBUG_ATOMIC_SLEEP reported the sleep under a spinlock"
	check "$(has 'UBSAN: shift-out-of-bounds'; echo $?)" "UBSAN reported the shift"
	check "$(grep -A16 '^unreferenced object' "$res/kmemleak.txt" 2>/dev/null | grep -q canary_leak; echo $?)" \
		"kmemleak reported the leak (backtrace in canary_leak)"
	check "$([ "$(verdict_of "$res" kasan)" -ge 2 ] && [ "$(verdict_of "$res" lockdep)" -ge 1 ] &&
		[ "$(verdict_of "$res" atomic_sleep)" -ge 1 ] && [ "$(verdict_of "$res" ubsan)" -ge 1 ] &&
		[ "$(verdict_of "$res" kmemleak)" -ge 1 ]; echo $?)" \
		"the harness counted each detector: $(grep -v verdict "$res/verdict.txt" 2>/dev/null | tr '\n' ' ')"
	if [ $fail != 0 ]; then
		echo "debug-test: the canary did not make every detector fire; guest output:"
		cat "$out/canary.log"
		die "positive control"
	fi
	echo "debug-test: canary PASS (every detector fired and the harness failed the run)"
}

# ---------------------------------------------------------------- selftests
run_selftests() {
	local rc=0
	[ -x "$root/.vm/out/selftests/ioctl_test" ] || die "selftests not built (make -C kmodule selftests)"
	rm -rf "$out/selftests"
	t=$(now)
	# Each test's time limit x4 (GUEST_TIME_SCALE): under load, unload_test's rmmod after
	# SIGKILLing the holder took over 2 min on this kernel, past the default 120 s.
	KINGEST_GUEST_ENV_GUEST_TIME_SCALE=${GUEST_TIME_SCALE:-4} VM_TIMEOUT=${VM_TIMEOUT:-2400} \
		bash "$here/guest.sh" "$kmod/selftests/run-selftests.sh" "$out/selftests" || rc=$?
	note selftests-guest "$(since "$t")"
	echo "debug-test: selftests: $(cat "$out/selftests"/*.tap 2>/dev/null | grep -c '^ok ') TAP checks ok," \
		"$(cat "$out/selftests"/*.tap 2>/dev/null | grep -c '^not ok ') not ok; guest boot to script" \
		"$(cat "$out/selftests/boot.txt" 2>/dev/null) s"
	[ "$rc" = 0 ] || die "selftests under the debug kernel (exit $rc, results in $out/selftests)"
	planted_reports_fail "$out/selftests"
	echo "debug-test: selftests PASS under the debug kernel"
}

# ---------------------------------------------------------------- scenario
run_scenario() {
	local rc=0
	[ -x "$root/out/ingest/ingest" ] || die "no out/ingest/ingest for the scenario (make build)"
	t=$(now)
	# SCENARIO_MODE=debug: every channel, hostile input, sensors, one signed command, one
	# SIGKILL (tests/guest/scenario.sh says why); the waits' limits x4 (GUEST_TIME_SCALE):
	# python, kcat and the daemon start several times slower on this kernel under TCG, and far
	# slower on a loaded host. KVER only names the run: run.sh boots guest.sh with the debug
	# kingest.ko (KINGEST_KO), not a Debian kernel.
	KVER=debug-$release GUEST_RUNNER=$here/guest.sh VM_TIMEOUT=${VM_TIMEOUT:-1200} \
		KINGEST_GUEST_ENV_SCENARIO_MODE=debug \
		KINGEST_GUEST_ENV_GUEST_TIME_SCALE=${GUEST_TIME_SCALE:-4} \
		KINGEST_GUEST_ENV_KINGEST_KILLS=${DEBUG_KILLS:-1} \
		bash "$root/tests/guest/run.sh" "$out/scenario" || rc=$?
	note scenario-guest "$(since "$t")"
	[ "$rc" = 0 ] || die "guest scenario under the debug kernel (exit $rc, results in $out/scenario)"
	planted_reports_fail "$out/scenario"
	echo "debug-test: scenario PASS under the debug kernel"
}

for s in $steps; do "run_$s"; done
echo "debug-test: times (s): $(tr '\n' ' ' <"$times")"
