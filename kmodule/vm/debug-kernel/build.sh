#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds the debug kernel the module's tests also run under (make -C kmodule vm-test-debug):
# a small kernel from Debian's linux-source-<series> with KASAN (generic, inline, vmalloc),
# lockdep (PROVE_LOCKING), kmemleak, UBSAN (bounds, shift), DEBUG_ATOMIC_SLEEP, DEBUG_LIST and
# DEBUG_OBJECTS, and everything a QEMU/9p guest needs built in (=y), so it boots without modules.
#
#   kmodule/vm/debug-kernel/build.sh [CACHE_DIR]
#
# CACHE_DIR defaults to $INGEST_DEBUG_KERNEL_CACHE, else /var/cache/ingest/debug-kernel: outside
# the clone, so later runs, other clones and CI on the same machine reuse the ~1.8 GB tree.
# Env:   KSERIES=6.1   linux-source-<series> (the version is whatever apt installs; only 6.1 is
#                      used: a second, 6.12 debug tree would double the build for little gain)
#        JOBS=<n>      make -j (default: nproc)
#        FORCE=1       run make even if the build stamp says it is up to date
#        CONFIG_ONLY=1 stop after writing and checking .config
#
# Idempotent: the tarball is extracted once per package version, the config is regenerated only
# when the fragment below changes (every fragment line is then checked to have stuck), and make
# is skipped when bzImage was built from the current .config and source version (a cached run
# takes a fraction of a second). Prints tree=<dir> (build modules with make -C <tree> M=<dir>),
# bzImage=<file> and release=<uname -r>. Build log: CACHE_DIR/build.log; timing
# (/usr/bin/time -v): CACHE_DIR/build-time.txt.
# Adapted from a recipe verified on this machine kind (2 cores, TCG): ~6.5 min cold, 1.8 GB.
set -euo pipefail
out=$(realpath -m "${1:-${INGEST_DEBUG_KERNEL_CACHE:-/var/cache/ingest/debug-kernel}}")
series=${KSERIES:-6.1}
jobs=${JOBS:-$(nproc)}
mkdir -p "$out"
log() { echo "debug-kernel: $*" >&2; }

# ------------------------------------------------------------------ packages
pkgs=(build-essential bc flex bison libelf-dev libssl-dev cpio xz-utils "linux-source-$series")
# One dpkg-query for all (a cached run must stay well under a second).
missing=()
installed=" $(dpkg-query -W -f='${Package}=${db:Status-Abbrev}\n' "${pkgs[@]}" 2>/dev/null |
	sed -n 's/=ii *$//p' | tr '\n' ' ' || true) "
for p in "${pkgs[@]}"; do [[ $installed == *" $p "* ]] || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
	log "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null || {
		apt-get update -qq -o DPkg::Lock::Timeout=600 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null; }
fi

# ------------------------------------------------------------------ source
srcver=$(dpkg-query -W -f='${Version}' "linux-source-$series")
src=$out/linux-source-$series
if [ "$(cat "$out/.src-version" 2>/dev/null)" != "$srcver" ] || [ ! -f "$src/Makefile" ]; then
	log "extracting linux-source-$series $srcver"
	rm -rf "$src" "$out/.src-version" "$out/.build-stamp"
	tar -C "$out" -xf "/usr/src/linux-source-$series.tar.xz"
	echo "$srcver" > "$out/.src-version"
fi

# ------------------------------------------------------------------ config
# Applied on top of `make tinyconfig`, then `make olddefconfig`. EMBEDDED/EXPERT are switched
# back off so the usual userspace ABI (futex, epoll, eventfd, signalfd, timerfd, madvise,
# membarrier, rseq, shmem, aio, ...) returns to its defaults (y); the important ones are also
# listed explicitly so the check below fails loudly if Kconfig ever drops them.
frag=$(cat <<'EOF'
CONFIG_64BIT=y
# CONFIG_EMBEDDED is not set
# CONFIG_EXPERT is not set
CONFIG_SMP=y
CONFIG_PREEMPT=y
CONFIG_CC_OPTIMIZE_FOR_PERFORMANCE=y
CONFIG_KERNEL_GZIP=y
CONFIG_SLUB=y
CONFIG_PRINTK=y
CONFIG_PRINTK_TIME=y
CONFIG_BUG=y
CONFIG_KALLSYMS=y
CONFIG_KALLSYMS_ALL=y
CONFIG_MULTIUSER=y
CONFIG_POSIX_TIMERS=y
CONFIG_HIGH_RES_TIMERS=y
CONFIG_FUTEX=y
CONFIG_EPOLL=y
CONFIG_SIGNALFD=y
CONFIG_TIMERFD=y
CONFIG_EVENTFD=y
CONFIG_SHMEM=y
CONFIG_AIO=y
CONFIG_ADVISE_SYSCALLS=y
CONFIG_MEMBARRIER=y
CONFIG_RSEQ=y
CONFIG_SYSVIPC=y
CONFIG_POSIX_MQUEUE=y
CONFIG_FHANDLE=y
CONFIG_FILE_LOCKING=y
CONFIG_INOTIFY_USER=y
CONFIG_BINFMT_ELF=y
CONFIG_BINFMT_SCRIPT=y
CONFIG_BLK_DEV_INITRD=y
CONFIG_RD_GZIP=y
CONFIG_DEVTMPFS=y
CONFIG_DEVTMPFS_MOUNT=y
CONFIG_PROC_FS=y
CONFIG_PROC_SYSCTL=y
CONFIG_PROC_PAGE_MONITOR=y
CONFIG_SYSFS=y
CONFIG_TMPFS=y
CONFIG_MEMFD_CREATE=y
CONFIG_TTY=y
CONFIG_UNIX98_PTYS=y
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y
CONFIG_MODULES=y
CONFIG_MODULE_UNLOAD=y
CONFIG_ACPI=y
CONFIG_PCI=y
CONFIG_PCI_MSI=y
CONFIG_VIRTIO_MENU=y
CONFIG_VIRTIO=y
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_PCI_LEGACY=y
CONFIG_NET=y
CONFIG_INET=y
CONFIG_IPV6=y
CONFIG_UNIX=y
CONFIG_NETDEVICES=y
CONFIG_NET_CORE=y
CONFIG_VETH=y
CONFIG_NAMESPACES=y
CONFIG_NET_NS=y
CONFIG_NETWORK_FILESYSTEMS=y
CONFIG_NET_9P=y
CONFIG_NET_9P_VIRTIO=y
CONFIG_9P_FS=y
CONFIG_DEBUG_KERNEL=y
CONFIG_DEBUG_INFO_NONE=y
CONFIG_DEBUG_BUGVERBOSE=y
CONFIG_UNWINDER_ORC=y
CONFIG_DEBUG_FS=y
CONFIG_DEBUG_FS_ALLOW_ALL=y
CONFIG_KASAN=y
CONFIG_KASAN_GENERIC=y
CONFIG_KASAN_INLINE=y
CONFIG_KASAN_VMALLOC=y
CONFIG_VMAP_STACK=y
CONFIG_PROVE_LOCKING=y
CONFIG_DEBUG_ATOMIC_SLEEP=y
CONFIG_DEBUG_PREEMPT=y
CONFIG_DEBUG_KMEMLEAK=y
CONFIG_DEBUG_KMEMLEAK_AUTO_SCAN=y
# CONFIG_DEBUG_KMEMLEAK_DEFAULT_OFF is not set
CONFIG_DEBUG_LIST=y
CONFIG_DEBUG_OBJECTS=y
CONFIG_DEBUG_OBJECTS_FREE=y
CONFIG_DEBUG_OBJECTS_TIMERS=y
CONFIG_DEBUG_OBJECTS_WORK=y
CONFIG_UBSAN=y
CONFIG_UBSAN_BOUNDS=y
CONFIG_UBSAN_SHIFT=y
CONFIG_DETECT_HUNG_TASK=y
CONFIG_RCU_CPU_STALL_TIMEOUT=60
CONFIG_FORTIFY_SOURCE=y
CONFIG_HARDENED_USERCOPY=y
# CONFIG_PANIC_ON_OOPS is not set
# Defaults that EXPERT=n turns on and a 9p guest does not need (compile time):
# CONFIG_INPUT_KEYBOARD is not set
# CONFIG_INPUT_MOUSE is not set
# CONFIG_HID is not set
# CONFIG_SCHED_MC_PRIO is not set
# CONFIG_CPU_FREQ is not set
# CONFIG_PERF_EVENTS_INTEL_UNCORE is not set
# CONFIG_PERF_EVENTS_INTEL_RAPL is not set
# CONFIG_PERF_EVENTS_INTEL_CSTATE is not set
# CONFIG_ETHERNET is not set
# CONFIG_WLAN is not set
# CONFIG_WIRELESS is not set
# CONFIG_IPV6_SIT is not set
# CONFIG_INET_DIAG is not set
# CONFIG_NET_9P_FD is not set
# CONFIG_RD_BZIP2 is not set
# CONFIG_RD_LZMA is not set
# CONFIG_RD_XZ is not set
# CONFIG_RD_LZO is not set
# CONFIG_RD_LZ4 is not set
# CONFIG_RD_ZSTD is not set
# CONFIG_SERIAL_8250_DEPRECATED_OPTIONS is not set
# CONFIG_SERIAL_8250_PCI is not set
# CONFIG_SERIAL_8250_EXAR is not set
# CONFIG_SERIAL_8250_LPSS is not set
# CONFIG_SERIAL_8250_MID is not set
# CONFIG_SERIAL_8250_PERICOM is not set
# CONFIG_MQ_IOSCHED_DEADLINE is not set
# CONFIG_MQ_IOSCHED_KYBER is not set
CONFIG_PARTITION_ADVANCED=y
# CONFIG_MSDOS_PARTITION is not set
# CONFIG_EFI_PARTITION is not set
# CONFIG_SWAP is not set
# ACPI is here only for the MADT (SeaBIOS' MP table lists 1 CPU: no SMP without it) and S5:
# CONFIG_ACPI_AC is not set
# CONFIG_ACPI_BATTERY is not set
# CONFIG_ACPI_BUTTON is not set
# CONFIG_ACPI_FAN is not set
# CONFIG_ACPI_THERMAL is not set
# CONFIG_ACPI_PROCESSOR is not set
# CONFIG_ACPI_CONTAINER is not set
# CONFIG_ACPI_TABLE_UPGRADE is not set
# CONFIG_THERMAL is not set
# CONFIG_POWER_SUPPLY is not set
EOF
)
frag_file=$out/debug.config
printf '%s\n' "$frag" > "$frag_file.new"
if ! cmp -s "$frag_file.new" "$src/.debug-fragment" || [ ! -f "$src/.config" ]; then
	log "configuring (tinyconfig + $frag_file + olddefconfig)"
	mv "$frag_file.new" "$frag_file"
	rm -f "$out/.build-stamp"
	make -C "$src" -s tinyconfig >/dev/null
	"$src/scripts/kconfig/merge_config.sh" -m -O "$src" "$src/.config" "$frag_file" >/dev/null
	make -C "$src" -s olddefconfig 2>&1 | { grep -v "changes choice state" || true; } >&2
	# Nothing is left as a module: the guest boots without any.
	if grep -q '=m$' "$src/.config"; then
		log "turning leftover =m into =y: $(grep '=m$' "$src/.config" | tr '\n' ' ')"
		sed -i 's/=m$/=y/' "$src/.config"
		make -C "$src" -s olddefconfig 2>&1 | { grep -v "changes choice state" || true; } >&2
	fi
	bad=0
	while IFS= read -r line; do
		case $line in
		"# CONFIG_"*" is not set")
			sym=${line#\# }; sym=${sym%% *}
			if grep -qE "^$sym=[ym]" "$src/.config"; then log "wanted off, is on: $sym"; bad=1; fi ;;
		CONFIG_*)
			grep -qxF "$line" "$src/.config" || {
				log "wanted $line, got: $(grep -E "^(# )?${line%%=*}[= ]" "$src/.config" || echo absent)"; bad=1; } ;;
		esac
	done < "$frag_file"
	[ $bad = 0 ] || { log "config check failed (see above)"; rm -f "$src/.debug-fragment"; exit 1; }
	cp "$frag_file" "$src/.debug-fragment"
else
	rm -f "$frag_file.new"
fi

[ "${CONFIG_ONLY:-0}" = 1 ] && { echo "config=$src/.config"; exit 0; }

# ------------------------------------------------------------------ build
bz=$src/arch/x86/boot/bzImage
want="$srcver $(sha256sum < "$src/.config" | cut -c1-64)"
if [ "${FORCE:-0}" != 1 ] && [ -f "$bz" ] && [ "$(cat "$out/.build-stamp" 2>/dev/null)" = "$want" ]; then
	log "up to date, skipping make"
else
	# `modules` also writes Module.symvers (vmlinux's exports), which out-of-tree builds
	# (M=) need even when nothing in the tree is =m; with no =m it costs seconds.
	targets="bzImage modules_prepare modules"
	log "make -j$jobs $targets (log: $out/build.log)"
	if ! /usr/bin/time -v -o "$out/build-time.txt" make -C "$src" -j"$jobs" $targets > "$out/build.log" 2>&1; then
		tail -30 "$out/build.log" >&2; log "build failed"; exit 1
	fi
	grep -E 'Elapsed|User time|System time|Maximum resident' "$out/build-time.txt" >&2
	echo "$want" > "$out/.build-stamp"
fi
[ -f "$src/Module.symvers" ] || make -C "$src" -s -j"$jobs" modules
echo "tree=$src"
echo "bzImage=$bz"
echo "release=$(cat "$src/include/config/kernel.release")"
