#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boots the installed Debian kernel under QEMU (TCG), loads kingest.ko and
# runs one script in the guest, chrooted into the host's root filesystem.
#
#   kmodule/vm/run-guest.sh <script on the host> [results dir]
#
# Guest view (inside the chroot):
#   /                  the host's root, read-only over 9p
#   /tmp, /run         private tmpfs (writable state); /dev/shm tmpfs
#   /run/results       the host's <results dir>, writable (9p): bring
#                      results back here
#   environment        KINGEST_RESULTS=/run/results, KINGEST_KO=<.ko path>,
#                      KINGEST_UPCALL_HELPER=/sbin/kingest-upcall (a helper
#                      in the initramfs root, where usermode helpers run),
#                      KINGEST_UPCALL_LOG=/tmp/kingest-upcall.log (its log),
#                      HOME=/tmp, plus KINGEST_GUEST_ENV_* from the caller
#                      with the prefix stripped
# The script runs with bash, cwd = its own directory, under a timeout. If
# the checkout, the script or the module is under the host's /tmp or /run,
# that directory is bind-mounted (read-only) over the guest's. The host root
# is mounted with cache=loose (fast exec over 9p): do not change files the
# guest reads while it runs.
#
# Afterwards <results dir> holds script.log (its stdout+stderr), script.rc,
# dmesg.txt and console.log. Exit status: the script's, or 1 if it failed
# to finish, or 2 if the guest kernel logged WARNING/BUG/Oops/Call Trace.
#
# Settings (environment): KVER (an exact version, e.g. 6.12.117+deb12-amd64;
# default: Debian 12's 6.1 line as kmodule/scripts/kernels.sh finds it in
# apt; never the host's uname -r nor "the newest /lib/modules"),
# VM_KERNEL_IMAGE (default /boot/vmlinuz-$KVER) and VM_MODULES_DIR (default
# /lib/modules/$KVER; the virtio/9p modules come from there) for a kernel
# built elsewhere (a debug kernel), KINGEST_KO (default
# .vm/out/$KVER/kingest.ko, what `make -C kmodule module` builds),
# VM_TIMEOUT (s, whole guest, default 300),
# VM_SCRIPT_TIMEOUT (s, default VM_TIMEOUT - 30, or 3/4 of a short one),
# VM_MEM (MB, 2048), VM_SMP (2), VM_NO_MODULE=1 to boot without loading
# kingest.ko.
# For other kernels and harnesses (kmodule/vm/debug-kernel/guest.sh):
# VM_GUEST_MODULES (the virtio/9p modules to load from VM_MODULES_DIR, in
# order; set it empty for a kernel with them built in), VM_CPU (QEMU -cpu,
# default max), VM_CMDLINE (the kernel command line, default
# "console=ttyS0 quiet panic=-1 loglevel=4"), VM_APPEND (appended to it),
# VM_HOOK_BEFORE and VM_HOOK_AFTER (busybox sh files the guest's init
# sources before it loads kingest.ko and after the script has exited,
# before dmesg.txt is saved; they run outside the chroot, with the host root
# at /host, the results share at /results, the script's exit status in $rc,
# and write what they find to /results), VM_LABEL (the log prefix).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
script=${1:?usage: run-guest.sh <script> [results dir]}
script=$(realpath "$script")
results=$(realpath -m "${2:-$root/.vm/out/guest}")

if [ -z "${KVER:-}" ]; then
	KVER=$(bash "$root/kmodule/scripts/kernels.sh" resolve 6.1)
fi
vmlinuz=${VM_KERNEL_IMAGE:-/boot/vmlinuz-$KVER}
moddir=${VM_MODULES_DIR:-/lib/modules/$KVER}
ko=$(realpath -m "${KINGEST_KO:-$root/.vm/out/$KVER/kingest.ko}")
vm_timeout=${VM_TIMEOUT:-300}
script_timeout=${VM_SCRIPT_TIMEOUT:-$((vm_timeout > 60 ? vm_timeout - 30 : vm_timeout * 3 / 4))}

die() { echo "run-guest: $*" >&2; exit 1; }
[ -n "$KVER" ] && [ -f "$vmlinuz" ] || die "no kernel image $vmlinuz for '$KVER' (scripts/deps-apt.sh kernel $KVER)"
[ -f "$script" ] || die "no script $script"
[ "${VM_NO_MODULE:-0}" = 1 ] || [ -f "$ko" ] || die "no module $ko (make -C kmodule module)"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing (scripts/deps-apt.sh)"

# ---------------------------------------------------------------- initramfs
# Virtio transport and 9p, in dependency order; built-ins are simply absent.
guest_modules=${VM_GUEST_MODULES-virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
netfs fscache 9pnet 9pnet_virtio 9p}
label=${VM_LABEL:-run-guest}

read -r -d '' init_script <<'INIT' || true
#!/bin/sh
# kingest guest init: mount, load, chroot, run, report, power off.
export PATH=/bin:/sbin
echo "init: started"
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules.order); do
	insmod /lib/modules/$m.ko || echo "init: insmod $m failed"
done
mkdir -p /host
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /host || {
	echo "init: cannot mount the host root"; poweroff -f; }
mount -t proc proc /host/proc
mount -t sysfs sys /host/sys
mount -t devtmpfs dev /host/dev
mkdir -p /results
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 results /results || {
	echo "init: cannot mount the results share"; poweroff -f; }
. /results/.job.env
# Keep the host's /tmp and /run reachable for paths the job needs there
# (a checkout under /tmp), then give the guest private ones.
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
rc=0
[ -f /results/.hook-before.sh ] && . /results/.hook-before.sh
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
echo $rc >/host/run/results/script.rc
[ -f /results/.hook-after.sh ] && . /results/.hook-after.sh
dmesg >/host/run/results/dmesg.txt
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

busybox=/bin/busybox
[ -x "$busybox" ] || die "busybox-static missing (scripts/deps-apt.sh)"
key=$(printf '%s\n%s\n%s\n%s\n%s\n' "$KVER" "$moddir" "$guest_modules" "$init_script" "$upcall_helper" |
	sha256sum | cut -c1-12)
initrd=$root/.vm/initramfs-$KVER-$key.cpio.gz
if [ ! -f "$initrd" ]; then
	echo "run-guest: building $initrd"
	mkdir -p "$root/.vm"
	stage=$(mktemp -d)
	trap 'rm -rf "$stage"' EXIT
	mkdir -p "$stage"/{bin,sbin,proc,sys,dev,lib/modules,host}
	cp "$busybox" "$stage/bin/busybox"
	for a in $("$stage/bin/busybox" --list); do
		[ -e "$stage/bin/$a" ] || ln -s busybox "$stage/bin/$a"
	done
	: >"$stage/modules.order"
	for m in $guest_modules; do
		f=$(find "$moddir/kernel" -name "$m.ko*" | head -n1)
		[ -n "$f" ] || continue
		case $f in
		*.xz) xz -dc "$f" >"$stage/lib/modules/$m.ko" ;;
		*.zst) zstd -qdc "$f" >"$stage/lib/modules/$m.ko" ;;
		*) cp "$f" "$stage/lib/modules/$m.ko" ;;
		esac
		echo "$m" >>"$stage/modules.order"
	done
	printf '%s\n' "$init_script" >"$stage/init"
	printf '%s\n' "$upcall_helper" >"$stage/sbin/kingest-upcall"
	chmod 755 "$stage/init" "$stage/sbin/kingest-upcall"
	(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) >"$initrd.tmp"
	mv "$initrd.tmp" "$initrd"
	# Older builds for this kernel are stale now.
	find "$root/.vm" -maxdepth 1 -name "initramfs-$KVER-*.cpio.gz" ! -path "$initrd" -delete
	rm -rf "$stage"
	trap - EXIT
fi

# ---------------------------------------------------------------- run
mkdir -p "$results"
rm -f "$results"/{script.log,script.rc,dmesg.txt,console.log,.hook-before.sh,.hook-after.sh}
for h in before after; do
	var=VM_HOOK_${h^^}
	[ -z "${!var:-}" ] || cp "${!var}" "$results/.hook-$h.sh" || die "no hook file ${!var}"
done
guest_env=""
# Host paths under /tmp or /run the guest must still see (its own are tmpfs).
keep=""
for p in "$root" "$(dirname "$script")" "$(dirname "$ko")"; do
	case $p in
	/tmp/* | /run/*) case " $keep " in *" $p "*) ;; *) keep+=" $p" ;; esac ;;
	esac
done
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

echo "$label: kernel $KVER ($vmlinuz), script $script, results $results"
# One retry, only for a kernel that crashed while booting, before this init (and so before the
# module, the hooks or the script) ran: Debian 12's QEMU 7.2 has a multi-threaded TCG bug in
# cross-modified code that now and then turns a static-key patch site into a stray int3 at boot
# ("Oops: int3" in an initcall; fixed in QEMU 8.1, ClangBuiltLinux/boot-utils#111). Any crash
# after "init: started" is judged below as usual.
for attempt in 1 2; do
	start=$(date +%s)
	set +e
	timeout -k 10 "$vm_timeout" qemu-system-x86_64 \
		-accel tcg,thread=multi -cpu "${VM_CPU:-max}" -smp "${VM_SMP:-2}" -m "${VM_MEM:-2048}" \
		-kernel "$vmlinuz" -initrd "$initrd" \
		-append "${VM_CMDLINE:-console=ttyS0 quiet panic=-1 loglevel=4}${VM_APPEND:+ $VM_APPEND}" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-virtfs local,path="$results",mount_tag=results,security_model=none,multidevs=remap \
		-nic none -display none -monitor none -serial "file:$results/console.log" -no-reboot
	qemu_rc=$?
	set -e
	echo "$label: guest ran $(($(date +%s) - start)) s (qemu exit $qemu_rc)"
	if [ "$attempt" = 1 ] && ! grep -q '^init: started' "$results/console.log" 2>/dev/null &&
		grep -qE 'Oops|Kernel panic' "$results/console.log" 2>/dev/null; then
		echo "$label: the kernel crashed while booting, before init ran (QEMU TCG, see above); booting once more:" >&2
		grep -m3 -E 'Oops|RIP:|Kernel panic' "$results/console.log" >&2 || true
		mv "$results/console.log" "$results/console.boot-crash.log"
		continue
	fi
	break
done
rm -f "$results"/{.job.env,.hook-before.sh,.hook-after.sh}

[ -f "$results/script.log" ] && cat "$results/script.log"
verdict=0
if [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
	echo "$label: FAIL: guest timed out after $vm_timeout s" >&2
	verdict=1
fi
if [ ! -f "$results/script.rc" ]; then
	echo "$label: FAIL: the script did not finish (guest crashed?), see $results/console.log" >&2
	verdict=1
elif [ "$(cat "$results/script.rc")" != 0 ]; then
	echo "$label: FAIL: script exit $(cat "$results/script.rc")" >&2
	verdict=$(cat "$results/script.rc")
fi
pattern='WARNING:|BUG:|Oops|Call Trace|general protection fault|UBSAN:|INFO: task .* blocked'
if grep -qE "$pattern" "$results/dmesg.txt" "$results/console.log" 2>/dev/null; then
	echo "$label: FAIL: kernel warning in the guest:" >&2
	grep -hE -A20 "$pattern" "$results/dmesg.txt" "$results/console.log" 2>/dev/null | head -60 >&2
	verdict=2
fi
[ "$verdict" = 0 ] && echo "$label: PASS"
exit "$verdict"
