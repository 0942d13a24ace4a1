# SPDX-License-Identifier: GPL-2.0
# Sourced by the guest's init (kmodule/vm/run-guest.sh, VM_HOOK_AFTER) once the
# script has exited. The module must unload (processes the script left may
# need a moment to exit); its leaks show only once it has.
cut -d' ' -f1 /proc/uptime >/results/script-end.txt
mrc=0
for _ in 1 2 3 4 5 6 7 8 9 10; do
	grep -q '^kingest ' /proc/modules || break
	rmmod kingest && break
	mrc=1
	sleep 1
done
grep -q '^kingest ' /proc/modules || mrc=0
echo $mrc >/results/rmmod.rc
# A scan reports objects older than 5 s that nothing references; the file then
# lists those still unreferenced at the last scan (a pointer that only sat in a
# register during the first is found by the second). So: scan at once, and
# again 6 s later, when whatever kingest freed or leaked last is old enough.
# No kmemleak.txt unless every scan worked: a disabled kmemleak fails the run.
kml=/host/sys/kernel/debug/kmemleak
t=$(cut -d' ' -f1 /proc/uptime)
echo scan >$kml && sleep 6 && echo scan >$kml && cat $kml >/results/kmemleak.tmp &&
	mv /results/kmemleak.tmp /results/kmemleak.txt
echo "init: rmmod, then kmemleak scans at uptime $(cat /results/script-end.txt)-$t-$(cut -d' ' -f1 /proc/uptime) s"
