#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boots the debug kernel (build.sh) under QEMU (TCG), runs one script in the
# guest and judges the kernel's own detectors: KASAN, lockdep, UBSAN,
# DEBUG_ATOMIC_SLEEP, kmemleak and any BUG:/WARNING:.
#
#   kmodule/vm/debug-kernel/guest.sh <script on the host> [results dir]
#
# The script sees what kmodule/vm/run-guest.sh gives it (same guest view,
# same environment: KINGEST_RESULTS=/run/results, KINGEST_KO, the upcall
# helper, KINGEST_GUEST_ENV_*), so run-selftests.sh and the guest scenario
# run unchanged. The differences: the kernel is the debug bzImage with
# everything built in (no modules in the initramfs), the command line adds
# pci=noacpi (ACPI PCI routing takes a minute under KASAN+lockdep+TCG) and
# kasan_multi_shot (every KASAN report, not only the first), the CPU has no
# 5-level paging (la57=off: with it, an interrupt taken while identify_cpu()
# has cleared the boot CPU's feature bits makes KASAN see LA57 direct-map
# addresses as wild: a storm of false "wild-memory-access" reports at boot
# under a slow TCG, seen on 6.1.192), and around the
# script the guest
#   before: stops kmemleak's automatic scan, scans, and clears what boot left;
#   after:  unloads kingest (it must unload), scans for leaks twice (an
#           object is reported once it is older than 5 s and stayed
#           unreferenced over two scans) and saves kmemleak.txt and dmesg.
#
# Results: script.log, script.rc, dmesg.txt, kmemleak.txt, console.log,
# boot.txt (guest uptime when the script started), rmmod.rc and
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
[ -f "$script" ] || die "no script $script"
[ "${VM_NO_MODULE:-0}" = 1 ] || [ -f "$ko" ] || die "no module $ko (make -C kmodule vm-test-debug builds it)"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing (scripts/deps-apt.sh)"
[ -x /bin/busybox ] || die "busybox-static missing (scripts/deps-apt.sh)"

# ---------------------------------------------------------------- initramfs
# run-guest.sh's init without the module loading, plus debugfs and the
# kmemleak bracket around the script.
read -r -d '' init_script <<'INIT' || true
#!/bin/sh
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /host
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /host || {
	echo "init: cannot mount the host root"; poweroff -f; }
mount -t proc proc /host/proc
mount -t sysfs sys /host/sys
mount -t devtmpfs dev /host/dev
mount -t debugfs debugfs /host/sys/kernel/debug
mkdir -p /results
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 results /results || {
	echo "init: cannot mount the results share"; poweroff -f; }
. /results/.job.env
mkdir -p /orig/tmp /orig/run
mount -o bind /host/tmp /orig/tmp
mount -o bind /host/run /orig/run
mount -t tmpfs -o mode=1777 tmp /host/tmp
mount -t tmpfs -o mode=755 run /host/run
for p in $JOB_KEEP; do
	mkdir -p "/host$p"
	mount -o bind,ro "/orig$p" "/host$p" || echo "init: cannot keep $p"
done
mkdir -p /host/dev/shm /host/dev/pts /host/run/results
mount -t tmpfs -o mode=1777 shm /host/dev/shm
mount -t devpts devpts /host/dev/pts
mount -o bind /results /host/run/results
# Usermode helpers run here, in the initramfs root: /tmp of the chroot is /host/tmp.
ln -s /host/tmp /tmp
ip link set lo up
kml=/host/sys/kernel/debug/kmemleak
# Leaks from boot are not the script's: report them now (scan) and mark them seen (clear).
echo scan=off >$kml && echo scan >$kml && echo clear >$kml || echo "init: kmemleak is not working"
cut -d' ' -f1 /proc/uptime >/results/boot.txt
rc=0
if [ "$JOB_LOAD" = 1 ]; then
	insmod "/host$JOB_KO" || rc=97
fi
if [ $rc = 0 ]; then
	chroot /host /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/tmp TMPDIR=/tmp KINGEST_RESULTS=/run/results KINGEST_KO="$JOB_KO" \
		KINGEST_UPCALL_HELPER=/sbin/kingest-upcall \
		KINGEST_UPCALL_LOG=/tmp/kingest-upcall.log $JOB_ENV \
		/bin/bash -c 'cd "$(dirname "$0")" && exec timeout -k 5 '"$JOB_TIMEOUT"' bash "$0"' "$JOB_SCRIPT" \
		>/host/run/results/script.log 2>&1
	rc=$?
fi
echo $rc >/results/script.rc
# The module must unload (processes the script left may need a moment to
# exit); its leaks show only once it has.
mrc=0
for _ in 1 2 3 4 5 6 7 8 9 10; do
	grep -q '^kingest ' /proc/modules || break
	rmmod kingest && break
	mrc=1
	sleep 1
done
grep -q '^kingest ' /proc/modules || mrc=0
echo $mrc >/results/rmmod.rc
# No kmemleak.txt unless every scan worked: a disabled kmemleak fails the run.
sleep 6; echo scan >$kml && sleep 6 && echo scan >$kml && cat $kml >/results/kmemleak.tmp &&
	mv /results/kmemleak.tmp /results/kmemleak.txt
dmesg >/results/dmesg.txt
sync
umount /host/run/results
umount /results
echo "init: script exit $rc"
poweroff -f
INIT

read -r -d '' upcall_helper <<'HELPER' || true
#!/bin/sh
# Logs each kingest upcall: argv 1..3 | env type seq len truncated | hex twice.
echo "$1 $2 $3 | $KINGEST_TYPE $KINGEST_SEQ $KINGEST_LEN $KINGEST_TRUNCATED | $5 $KINGEST_PAYLOAD" >>/tmp/kingest-upcall.log
HELPER

key=$(printf '%s\n%s\n' "$init_script" "$upcall_helper" | sha256sum | cut -c1-12)
initrd=$root/.vm/initramfs-debug-$key.cpio.gz
if [ ! -f "$initrd" ]; then
	mkdir -p "$root/.vm"
	stage=$(mktemp -d)
	trap 'rm -rf "$stage"' EXIT
	mkdir -p "$stage"/{bin,sbin,proc,sys,dev,host}
	cp /bin/busybox "$stage/bin/busybox"
	for a in $("$stage/bin/busybox" --list); do
		[ -e "$stage/bin/$a" ] || ln -s busybox "$stage/bin/$a"
	done
	printf '%s\n' "$init_script" >"$stage/init"
	printf '%s\n' "$upcall_helper" >"$stage/sbin/kingest-upcall"
	chmod 755 "$stage/init" "$stage/sbin/kingest-upcall"
	(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) >"$initrd.tmp"
	mv "$initrd.tmp" "$initrd"
	find "$root/.vm" -maxdepth 1 -name 'initramfs-debug-*.cpio.gz' ! -path "$initrd" -delete
	rm -rf "$stage"
	trap - EXIT
fi

# ---------------------------------------------------------------- run
mkdir -p "$results"
rm -f "$results"/{script.log,script.rc,rmmod.rc,dmesg.txt,kmemleak.txt,kmemleak.tmp,console.log,boot.txt,verdict.txt}
keep=""
for p in "$root" "$(dirname "$script")" "$(dirname "$ko")"; do
	case $p in
	/tmp/* | /run/*) case " $keep " in *" $p "*) ;; *) keep+=" $p" ;; esac ;;
	esac
done
guest_env=""
while IFS='=' read -r name value; do
	guest_env+=" ${name#KINGEST_GUEST_ENV_}=$(printf '%q' "$value")"
done < <(env | grep '^KINGEST_GUEST_ENV_' || true)
{
	echo "JOB_SCRIPT=$(printf '%q' "$script")"
	echo "JOB_KO=$(printf '%q' "$ko")"
	echo "JOB_LOAD=$([ "${VM_NO_MODULE:-0}" = 1 ] && echo 0 || echo 1)"
	echo "JOB_TIMEOUT=$script_timeout"
	echo "JOB_KEEP=\"$keep\""
	echo "JOB_ENV=\"$guest_env\""
} >"$results/.job.env"

echo "debug-guest: kernel $kimg, script $script, results $results"
start=$(date +%s)
set +e
timeout -k 10 "$vm_timeout" qemu-system-x86_64 \
	-accel tcg,thread=multi -cpu max,la57=off -smp "${VM_SMP:-2}" -m "${VM_MEM:-2048}" \
	-kernel "$kimg" -initrd "$initrd" \
	-append "console=ttyS0 loglevel=5 log_buf_len=4M panic=-1 pci=noacpi kasan_multi_shot ${VM_APPEND:-}" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-virtfs local,path="$results",mount_tag=results,security_model=none,multidevs=remap \
	-nic none -display none -monitor none -serial "file:$results/console.log" -no-reboot
qemu_rc=$?
set -e
wall=$(($(date +%s) - start))
rm -f "$results/.job.env"
echo "debug-guest: guest ran $wall s (qemu exit $qemu_rc), script started at uptime $(cat "$results/boot.txt" 2>/dev/null || echo '?') s"
[ -f "$results/script.log" ] && cat "$results/script.log"

verdict=0
if [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
	echo "debug-guest: FAIL: guest timed out after $vm_timeout s" >&2
	verdict=1
fi
if [ ! -f "$results/script.rc" ]; then
	echo "debug-guest: FAIL: the script did not finish (guest crashed?), see $results/console.log" >&2
	verdict=1
elif [ "$(cat "$results/script.rc")" != 0 ]; then
	echo "debug-guest: FAIL: script exit $(cat "$results/script.rc")" >&2
	verdict=1
fi
if [ -f "$results/rmmod.rc" ] && [ "$(cat "$results/rmmod.rc")" != 0 ]; then
	echo "debug-guest: FAIL: kingest did not unload after the script" >&2
	verdict=1
fi
# Each detector's reports in the whole boot's kernel log: the larger count of
# dmesg (everything, if the 4 MB buffer held it) and the serial console
# (loglevel 5: errors and warnings; it survives a guest that died). A lockdep
# splat is also a WARNING:, and a sleep in atomic context also a BUG::
# counted in both.
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
if [ "$leaks" = missing ]; then
	echo "debug-guest: FAIL: no kmemleak report (kmemleak off, or the guest died before the scan)" >&2
	verdict=1
fi
if [ "$kasan$lockdep$ubsan$atomic$bug$warning$oops" != 0000000 ] || { [ "$leaks" != missing ] && [ "$leaks" != 0 ]; }; then
	echo "debug-guest: FAIL: the debug kernel reported: $(tr '\n' ' ' <"$results/verdict.txt")" >&2
	grep -hE -A25 'BUG: |WARNING: |UBSAN: |Oops|general protection' "$results/dmesg.txt" 2>/dev/null | head -80 >&2 || true
	[ "$leaks" = 0 ] || [ "$leaks" = missing ] || head -40 "$results/kmemleak.txt" >&2
	verdict=2
fi
echo "verdict $([ $verdict = 0 ] && echo pass || echo fail)" >>"$results/verdict.txt"
echo "debug-guest: detectors: $(tr '\n' ' ' <"$results/verdict.txt")"
[ "$verdict" = 0 ] && echo "debug-guest: PASS"
exit "$verdict"
