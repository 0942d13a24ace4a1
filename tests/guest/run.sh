#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Host side of the guest end-to-end scenario (make guest-test):
#   tests/guest/run.sh [results dir]     (default .vm/out/guest-test/<KVER>)
# KVER: the exact kernel to boot (default: the 6.1 line, kmodule/scripts/kernels.sh);
# `make guest-test` runs this once per kernel of KVERS (kmodule/scripts/for-kernels.sh).
# Builds the guest tools (kingest-ctl against the uapi header; an
# ingest-upcall whose default socket is the guest daemon's), boots the guest
# with kingest.ko through kmodule/vm/run-guest.sh, runs scenario.sh there
# and prints the checker's summary. Fails on any failed check, on a guest
# that did not finish and on a kernel warning (run-guest.sh exit 2).
# Needs `make build` (out/ingest) and the module (make -C kmodule module).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KVER=${KVER:-$(bash "$root/kmodule/scripts/kernels.sh" resolve 6.1)}
export KVER
results=$(realpath -m "${1:-$root/.vm/out/guest-test/$KVER}")
tools=$root/.vm/guest-tools
die() { echo "guest-test: $*" >&2; exit 1; }

[ -x "$root/out/ingest/ingest" ] || die "no out/ingest/ingest: run make build"
command -v kcat >/dev/null || die "kcat missing (make deps-test)"
/usr/bin/python3 -c 'import msgpack' 2>/dev/null || die "python3-msgpack missing (make deps-test)"
# The Debian kernel's module, unless the caller brings its own (the debug kernel's, test.sh).
export KINGEST_KO=${KINGEST_KO:-$root/.vm/out/$KVER/kingest.ko}
if [ "$KINGEST_KO" = "$root/.vm/out/$KVER/kingest.ko" ]; then
	make -s -C "$root/kmodule" module >/dev/null || die "kingest.ko does not build for $KVER"
fi
[ -f "$KINGEST_KO" ] || die "no module $KINGEST_KO"

mkdir -p "$tools"
gcc -O2 -Wall -Wextra -Werror -I"$root/kmodule/include/uapi" \
	-o "$tools/kingest-ctl" "$root/tests/guest/kingest-ctl.c"
# Usermode helpers run in the initramfs root, where the guest's /tmp is /tmp too.
make -s -C "$root/src/Ingest.Transports/Upcall/helper" OUT="$tools" \
	CFLAGS='-O2 -DINGEST_UPCALL_DEFAULT_SOCKET=\"/tmp/ingest/upcall.sock\"' >/dev/null

# The command signing key pair and the host's result key, made with the product's keygen
# (key id, PEM forms, modes).
if [ ! -f "$tools/keys/ops.pub" ] || [ ! -f "$tools/keys/guest-a.pub" ]; then
	rm -rf "$tools/keys"
	"$root/out/ingest/ingest" keygen -o "$tools/keys" -n ops >/dev/null
	"$root/out/ingest/ingest" keygen -o "$tools/keys" --host guest-a >/dev/null
fi

rm -rf "$results"
mkdir -p "$results"
start=$(date +%s)
rc=0
# GUEST_RUNNER: another runner with run-guest.sh's interface (kmodule/vm/debug-kernel/guest.sh).
VM_TIMEOUT=${VM_TIMEOUT:-900} "${GUEST_RUNNER:-$root/kmodule/vm/run-guest.sh}" \
	"$root/tests/guest/scenario.sh" "$results" || rc=$?
wall=$(( $(date +%s) - start ))
# The verdict, on the host (python under TCG is slow): the guest left its dumps and counters.
if [ "$(cat "$results/script.rc" 2>/dev/null)" = 0 ]; then
	/usr/bin/python3 "$root/tests/guest/check.py" --results "$results" \
		--dump-a "$results/dump-a.bin" --dump-b "$results/dump-b.bin" >"$results/check.log" 2>&1 ||
		{ [ "$rc" = 2 ] || rc=1; }
	# The checker must reject these dumps with one defect each (lost, corrupted, duplicated events).
	if [ "$rc" = 0 ]; then
		/usr/bin/python3 "$root/tests/guest/check_selftest.py" "$results" >"$results/check-selftest.log" 2>&1 || {
			echo "guest-test: the checker accepted a defective dump:"; grep -v '^ok' "$results/check-selftest.log"; rc=1; }
		echo "checker self-test: $(grep -c '^ok' "$results/check-selftest.log") mutated/unmodified dumps judged right" |
			tee -a "$results/summary.txt" >/dev/null
	fi
fi

[ -s "$results/timeline.txt" ] && /usr/bin/python3 "$root/tests/guest/phases.py" "$results" >"$results/phases.txt" 2>&1

echo "=== guest-test summary ($results)"
cat "$results/summary.txt" 2>/dev/null || true
grep -E '^(daemon start-ups|set-up|phases A/B|SIGKILL stress|last drain and dump|scenario):' "$results/phases.txt" 2>/dev/null || true
echo "kernel: $KVER; wall time: ${wall} s (boot, scenario, power-off)" | tee -a "$results/summary.txt"
case $rc in
0) echo "guest-test: PASS" ;;
2) echo "guest-test: FAIL: the guest kernel logged a warning (see $results/dmesg.txt)"
   grep -E 'WARNING|BUG|Oops|Call Trace' "$results/dmesg.txt" | head -n 20 || true ;;
*) echo "guest-test: FAIL (exit $rc)"
   grep FAIL "$results/check.log" 2>/dev/null || true
   echo "last lines of $results/script.log:"
   tail -n 40 "$results/script.log" 2>/dev/null || true ;;
esac
exit "$rc"
