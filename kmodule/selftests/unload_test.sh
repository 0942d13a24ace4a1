#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Unload under load and repeated load/unload, as TAP. Needs the module
# loaded and KINGEST_KO naming the .ko; leaves it loaded.
# Kernel warnings are not checked here: the guest harness fails on any
# WARNING/BUG/Oops/Call Trace in dmesg after all tests.
set -u
bin=${KINGEST_SELFTEST_BIN:?}
ko=${KINGEST_KO:?}
n=0
fail=0
t0=$(date +%s)
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
	echo "# at $(($(date +%s) - t0)) s"
}
loaded() { grep -q '^kingest ' /proc/modules; }
busy() {
	# Every producer at once, fast.
	sysctl -qw kingest.rate_hz=200 kingest.sensor_count=8 kingest.image_size=4096 \
		kingest.upcall_enable=1 kingest.upcall_rate=20 kingest.udp_enable=1 \
		kingest.ring_enable=1 kingest.genl_enable=1 kingest.signal_enable=1 \
		kingest.netdev_enable=1 kingest.sensors_enable=1
	[ -n "${KINGEST_UPCALL_HELPER:-}" ] && sysctl -qw kingest.upcall_helper="$KINGEST_UPCALL_HELPER"
}
start_helper() {
	coproc HELPER { exec "$bin/load_helper" "$@"; }
	local line
	read -r -t 20 line <&"${HELPER[0]}"
	[ "$line" = ready ]
}

echo "TAP version 13"
echo "1..12"

busy
start_helper dev
ok $? "load helper holds the device, the ring mapping, a signal subscription and genl"
sleep 1
rmmod kingest 2>/dev/null
r=$?
loaded
ok $(( r != 0 && $? == 0 ? 0 : 1 )) "rmmod with the device open and mapped is refused, module stays"
kill -9 "$HELPER_PID"; wait "$HELPER_PID" 2>/dev/null
rmmod kingest
ok $? "rmmod succeeds once the holder is gone"

insmod "$ko"
ok $? "reload"
busy
start_helper genl
ok $? "genl listener and /proc readers running, sensors at 200 Hz, upcalls and UDP in flight"
# A /proc and sysctl reader racing the unload on top.
( while :; do cat /proc/kingest/sensors /proc/sys/kingest/rate_hz >/dev/null 2>&1; done ) &
reader=$!
sleep 1
rmmod kingest
ok $? "rmmod under load without open files succeeds"
kill "$reader" "$HELPER_PID" 2>/dev/null; wait "$reader" "$HELPER_PID" 2>/dev/null

# A reader asleep in KINGEST_IOC_WAIT_READ while unload is attempted.
insmod "$ko"
ok $? "reload"
sysctl -qw kingest.rate_hz=1000 kingest.sensors_enable=1
start_helper wait
ok $? "a reader sleeps in WAIT_READ, sensors at 1 kHz"
rmmod kingest 2>/dev/null
r=$?
loaded
ok $(( r != 0 && $? == 0 ? 0 : 1 )) "rmmod racing a WAIT_READ sleeper is refused, module stays"
kill -9 "$HELPER_PID"; wait "$HELPER_PID" 2>/dev/null
rmmod kingest
ok $? "rmmod succeeds once the sleeper is gone"

good=$("$bin/modloop" "$ko" kingest 50 "${KINGEST_UPCALL_HELPER:-/sbin/kingest-upcall}")
ok $? "load/unload 50 times in a row, unloading while upcalls fire ($good cycles)"
[ -n "${KINGEST_UPCALL_LOG:-}" ] && echo "# upcall log: $(wc -l <"$KINGEST_UPCALL_LOG" 2>/dev/null || echo 0) lines"

insmod "$ko"
ok $? "module loaded again for the tests that follow"
exit $fail
