#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boots the debug kernel (build.sh) under QEMU (TCG), runs one script in the
# guest and judges the kernel's own detectors: KASAN, lockdep, UBSAN,
# DEBUG_ATOMIC_SLEEP, kmemleak and any BUG:/WARNING:.
#
#   kmodule/vm/debug-kernel/guest.sh <script on the host> [results dir]
#
# A thin wrapper of kmodule/vm/run-guest.sh: the script sees the same guest
# view and environment (KINGEST_RESULTS=/run/results, KINGEST_KO, the upcall
# helper, KINGEST_GUEST_ENV_*), so run-selftests.sh and the guest scenario
# run unchanged. What it sets: the debug bzImage with everything built in
# (VM_GUEST_MODULES empty), a command line with pci=noacpi (ACPI PCI routing
# takes a minute under KASAN+lockdep+TCG) and kasan_multi_shot (every KASAN
# report, not only the first), a CPU without 5-level paging (la57=off: with
# it, an interrupt taken while identify_cpu() has cleared the boot CPU's
# feature bits makes KASAN see LA57 direct-map addresses as wild: a storm of
# false "wild-memory-access" reports at boot under a slow TCG, seen on
# 6.1.192), and two init hooks around the script:
#   hook-before.sh: mounts debugfs, stops kmemleak's automatic scan, scans,
#                   and clears what boot left;
#   hook-after.sh:  unloads kingest (it must unload), scans for leaks at once
#                   and 6 s later (an object is reported once it is older
#                   than 5 s and still unreferenced at the last scan), saves
#                   kmemleak.txt.
# Then it judges the detectors' reports (detectors.sh).
#
# Results: script.log, script.rc, dmesg.txt, kmemleak.txt, console.log,
# boot.txt and script-end.txt (guest uptime when the script started and
# ended), rmmod.rc and
# verdict.txt: one line per detector with its count, then the verdict.
# Exit status: 0 only if the script passed and no detector reported; 1 if
# the script failed or the guest did not finish; 2 if a detector reported
# (the script passed or not): run-guest.sh's convention.
#
# Settings (environment): DEBUG_KERNEL_IMAGE (default: ask build.sh, which
# builds it if needed), KINGEST_KO (default .vm/debug/kmodule/kingest.ko),
# VM_TIMEOUT (s, default 600), VM_SCRIPT_TIMEOUT (default VM_TIMEOUT - 60),
# VM_MEM (MB, 2048), VM_SMP (2), VM_APPEND (more kernel command line),
# VM_NO_MODULE=1 to boot without loading kingest.ko.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
script=$(realpath "${1:?usage: guest.sh <script> [results dir]}")
results=$(realpath -m "${2:-$root/.vm/out/debug-guest}")
ko=$(realpath -m "${KINGEST_KO:-$root/.vm/debug/kmodule/kingest.ko}")
vm_timeout=${VM_TIMEOUT:-600}
script_timeout=${VM_SCRIPT_TIMEOUT:-$((vm_timeout - 60))}

die() { echo "debug-guest: $*" >&2; exit 1; }
kimg=${DEBUG_KERNEL_IMAGE:-$(bash "$here/build.sh" | sed -n 's/^bzImage=//p')}
[ -f "$kimg" ] || die "no debug kernel image '$kimg'"

# run-guest.sh boots it: the same guest view and environment; everything is built
# in (no modules in the initramfs); the hooks bracket the script with kmemleak.
mkdir -p "$results"
rm -f "$results"/{rmmod.rc,kmemleak.txt,kmemleak.tmp,boot.txt,script-end.txt,verdict.txt}
rc=0
KVER=debug VM_LABEL=debug-guest VM_KERNEL_IMAGE=$kimg VM_GUEST_MODULES='' KINGEST_KO=$ko \
	VM_TIMEOUT=$vm_timeout VM_SCRIPT_TIMEOUT=$script_timeout VM_CPU=max,la57=off \
	VM_CMDLINE="console=ttyS0 loglevel=5 log_buf_len=4M panic=-1 pci=noacpi kasan_multi_shot" \
	VM_HOOK_BEFORE=$here/hook-before.sh VM_HOOK_AFTER=$here/hook-after.sh \
	bash "$here/../run-guest.sh" "$script" "$results" || rc=$?
echo "debug-guest: script ran from uptime $(cat "$results/boot.txt" 2>/dev/null || echo '?') s to $(cat "$results/script-end.txt" 2>/dev/null || echo '?') s"

# run-guest.sh's exit: 1 the guest did not finish, 2 a kernel warning, else the script's.
verdict=0
case $rc in 0 | 2) ;; *) verdict=1 ;; esac
if [ "$(cat "$results/script.rc" 2>/dev/null)" != 0 ]; then
	verdict=1 # run-guest.sh said why (a script exit 2 is not a kernel warning here)
fi

if [ -f "$results/rmmod.rc" ] && [ "$(cat "$results/rmmod.rc")" != 0 ]; then
	echo "debug-guest: FAIL: kingest did not unload after the script" >&2
	verdict=1
fi
# Each detector's reports in the whole boot's kernel log, and kmemleak's objects.
drc=0
bash "$here/detectors.sh" "$results" || drc=$?
case $drc in 0) ;; 2) verdict=2 ;; *) [ "$verdict" = 2 ] || verdict=1 ;; esac
echo "verdict $([ $verdict = 0 ] && echo pass || echo fail)" >>"$results/verdict.txt"
echo "debug-guest: detectors: $(tr '\n' ' ' <"$results/verdict.txt")"
[ "$verdict" = 0 ] && echo "debug-guest: PASS"
exit "$verdict"
