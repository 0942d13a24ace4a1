#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Guest side of ring-wait.sh: the daemon reading only the ring of the loaded
# kingest.ko into `ingest broker`; measures its CPU while the ring is idle
# and event-to-ack latency (ringlat) at 10 events/s and as fast as the
# guest injects. Environment: INGEST (the daemon binary), RINGLAT, LABEL,
# IDLE_SECONDS (60), LOW_SECONDS (20), HIGH_SECONDS (5), SETTLE_SECONDS (20).
set -u
res=${KINGEST_RESULTS:?}
work=/tmp/ring-wait
rt=/tmp/ingest
mkdir -p "$work" "$rt"
out=$res/ring-wait-${LABEL:-run}.txt
: >"$out"
log() { echo "ring-wait: $*" | tee -a "$out"; }
cleanup() { kill ${daemon_pid:-} ${broker_pid:-} 2>/dev/null; wait 2>/dev/null; }
trap cleanup EXIT
for s in sensors_enable netdev_enable upcall_enable genl_enable signal_enable udp_enable; do
	echo 0 >"/proc/sys/kingest/$s"
done
"$INGEST" broker >"$work/broker.log" 2>&1 &
broker_pid=$!
for _ in $(seq 300); do
	bootstrap=$(sed -n 's/^bootstrap=//p' "$work/broker.log" | head -n1)
	[ -n "$bootstrap" ] && break
	sleep 0.1
done
[ -n "${bootstrap:-}" ] || { log "no broker"; exit 1; }
cat >"$work/config.json" <<JSON
{
  "RuntimeDirectory": "$rt",
  "Udp": { "Enabled": false },
  "Proc": { "Enabled": false },
  "Netlink": { "Enabled": false },
  "Signals": { "Enabled": false },
  "Upcall": { "Enabled": false },
  "Ring": { "Enabled": "on" },
  "Heartbeat": { "Enabled": false },
  "Spool": { "Directory": "$work/spool" },
  "Stats": { "IntervalSeconds": 0, "ControlSocket": "$rt/control.sock" }
}
JSON
"$INGEST" run -c "$work/config.json" -b "$bootstrap" --host-id ring-wait >"$work/daemon.log" 2>&1 &
daemon_pid=$!
t0=$(date +%s%N)
# Under TCG on a loaded host a JIT daemon takes tens of seconds to start.
for _ in $(seq 3000); do
	[ -S "$rt/control.sock" ] && grep -q 'running 1 source' "$work/daemon.log" && break
	kill -0 "$daemon_pid" 2>/dev/null || break
	sleep 0.1
done
[ -S "$rt/control.sock" ] || { log "daemon not ready"; tail "$work/daemon.log"; exit 1; }
log "kernel $(uname -r), daemon $INGEST (pid $daemon_pid), ready in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
# Warm-up: broker connection, topic metadata, JIT; then a settling time (a JIT daemon
# recompiles its hot methods in the background for a while, slowly under TCG).
"$RINGLAT" 0 2 >/dev/null || true
sleep "${SETTLE_SECONDS:-20}"
cpu() { awk '{print $14 + $15}' "/proc/$daemon_pid/stat"; }
hz=$(getconf CLK_TCK)
c0=$(cpu)
sleep "${IDLE_SECONDS:-60}"
c1=$(cpu)
log "idle ${IDLE_SECONDS:-60} s: daemon CPU $(awk -v t=$((c1 - c0)) -v hz="$hz" -v s="${IDLE_SECONDS:-60}" 'BEGIN{printf "%.2f", t*1000/hz/s}') ms/s ($((c1 - c0)) ticks)"
c0=$(cpu)
low=$("$RINGLAT" 10 "${LOW_SECONDS:-20}")
c1=$(cpu)
log "10 events/s: $low; daemon CPU $(awk -v t=$((c1 - c0)) -v hz="$hz" -v s="${LOW_SECONDS:-20}" 'BEGIN{printf "%.2f", t*1000/hz/s}') ms/s"
high=$("$RINGLAT" 0 "${HIGH_SECONDS:-5}")
log "as fast as injected (1 M/s asked): $high"
