#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Start-up costs in a guest, one line per command (wall ms, from $EPOCHREALTIME): exec from the
# 9p root and from tmpfs, fork, sleep vs a read timeout, python3, the daemon, kcat, the broker
# and kcat dumps. Not part of any test; how the figures in kmodule/README.md were taken:
#   VM_NO_MODULE=1 kmodule/vm/debug-kernel/guest.sh kmodule/vm/debug-kernel/probe.sh [results]
root=$(cd ../../.. && pwd)
ms() { local a=$EPOCHREALTIME; "$@" >/dev/null 2>&1; local b=$EPOCHREALTIME; echo "$(( (${b/./} - ${a/./}) / 1000 )) ms: $*"; }
echo "uptime $(</proc/uptime); nproc $(nproc)"
echo "clocksource: $(</sys/devices/system/clocksource/clocksource0/current_clocksource) of $(</sys/devices/system/clocksource/clocksource0/available_clocksource)"
echo "cmdline: $(</proc/cmdline)"
dmesg | grep -iE 'tsc|clocksource|hpet' | head -8
for i in 1 2 3 4 5; do ms /bin/true; done
for i in 1 2 3; do a=$EPOCHREALTIME; ( : ); b=$EPOCHREALTIME; echo "$(( (${b/./} - ${a/./}) / 1000 )) ms: fork only"; done
for i in 1 2 3; do ms sleep 0.1; done
mkfifo /tmp/nap.fifo; exec {sfd}<>/tmp/nap.fifo
for i in 1 2 3; do a=$EPOCHREALTIME; read -t 0.1 -u $sfd; b=$EPOCHREALTIME; echo "$(( (${b/./} - ${a/./}) / 1000 )) ms: read -t 0.1"; done
for i in 1 2 3; do ms /usr/bin/python3 -c pass; done
ms /usr/bin/python3 -c 'import msgpack, cryptography.hazmat.primitives.asymmetric.ec, subprocess, socket, json'
ms /usr/bin/python3 -c 'import msgpack, cryptography.hazmat.primitives.asymmetric.ec, subprocess, socket, json'
for i in 1 2 3; do ms $root/out/ingest/ingest --help; done
for i in 1 2; do ms kcat -V; done
ms $root/.vm/guest-tools/kingest-ctl stats
ms $root/.vm/guest-tools/kingest-ctl stats
ms grep -q x /proc/net/udp
# tmpfs copies
ms cp $root/out/ingest/ingest /tmp/ingest-copy
ms cp /bin/true /tmp/true
for i in 1 2 3; do ms /tmp/true; done
for i in 1 2 3; do ms /tmp/ingest-copy --help; done
ms /usr/bin/python3 -S -c pass
ms /usr/bin/python3 -I -S -c pass
echo "uptime end $(</proc/uptime)"
# broker start and kcat dumps
a=$EPOCHREALTIME
$root/out/ingest/ingest broker > /tmp/broker.log 2>&1 &
bp=$!
bs=
for i in $(seq 600); do
	while IFS= read -r l; do [[ $l == bootstrap=* ]] && bs=${l#bootstrap=}; done </tmp/broker.log
	[ -n "$bs" ] && break
	read -t 0.1 -u $sfd
done
b=$EPOCHREALTIME; echo "$(( (${b/./} - ${a/./}) / 1000 )) ms: broker to bootstrap line ($bs)"
line=$(printf 'x%.0s' $(seq 150))
for i in $(seq 9000); do echo "$line"; done > /tmp/data.txt
ms kcat -b $bs -P -t t1 -l /tmp/data.txt
ms kcat -b $bs -C -t t1 -o beginning -e -q -f '%R%s'
ms kcat -b $bs -C -t t1 -o beginning -e -q -f '%R%s' -X fetch.wait.max.ms=10
ms kcat -b $bs -C -t t1 -o beginning -e -q -f '%R%s'
ms kcat -b $bs -C -t t1 -o beginning -e -q -f '%R%s' -X fetch.wait.max.ms=10
ms kcat -b $bs -C -t empty -o beginning -e -q -f '%R%s'
ms kcat -b $bs -C -t empty -o beginning -e -q -f '%R%s' -X fetch.wait.max.ms=10
kill $bp; wait $bp
echo "uptime end2 $(</proc/uptime)"
