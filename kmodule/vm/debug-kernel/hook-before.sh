# SPDX-License-Identifier: GPL-2.0
# Sourced by the guest's init (kmodule/vm/run-guest.sh, VM_HOOK_BEFORE) before
# kingest.ko is loaded: debugfs for the chroot, and kmemleak's baseline.
mount -t debugfs debugfs /host/sys/kernel/debug
kml=/host/sys/kernel/debug/kmemleak
# Leaks from boot are not the script's: report them now (scan) and mark them seen (clear).
up() { cut -d' ' -f1 /proc/uptime; }
t=$(up)
echo scan=off >$kml && echo scan >$kml && echo clear >$kml || echo "init: kmemleak is not working"
echo "init: kmemleak baseline scan at uptime $t-$(up) s"
cut -d' ' -f1 /proc/uptime >/results/boot.txt
