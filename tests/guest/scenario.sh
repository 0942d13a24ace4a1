#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The end-to-end scenario, run inside the QEMU guest by tests/guest/run.sh
# (kmodule/vm/run-guest.sh): kingest.ko loaded, `ingest broker` and
# `ingest run` (every channel) in the guest, events injected on all six
# channels, hostile input on each transport, simulated sensors, signed
# ioctl commands, then SIGKILL of the daemon mid-stream and a restart.
# Everything the checker needs goes to $KINGEST_RESULTS; the verdict comes
# from check.py, which decodes the topic with kcat + python3-msgpack only.
set -euo pipefail

root=$(cd ../.. && pwd)
# INGEST (KINGEST_GUEST_ENV_INGEST on the host): another build of the daemon, to compare.
ingest=${INGEST:-$root/out/ingest/ingest}
tools=$root/.vm/guest-tools
ctl=$tools/kingest-ctl
res=${KINGEST_RESULTS:?}
# Every wait below is multiplied by this (the debug kernel's run sets 4: KASAN+lockdep under TCG).
scale=${GUEST_TIME_SCALE:-1}
# SCENARIO_MODE=debug (the debug kernel's run, KINGEST_GUEST_ENV_SCENARIO_MODE on the host): the
# same six channels, hostile input, sensors, drains and dumps, but one signed command (set_rate)
# instead of three and one SIGKILL (KINGEST_KILLS) instead of 20: there every process start
# costs seconds, and what the run is for (KASAN, lockdep, leaks in the module under the daemon's
# real load) needs each kernel path once, not the daemon's at-least-once logic 20 times.
mode=${SCENARIO_MODE:-full}
case $mode in full | debug) ;; *) echo "FAIL: SCENARIO_MODE=$mode (full, debug)"; exit 1 ;; esac
work=/tmp/guest-test
rt=/tmp/ingest
mkdir -p "$work" "$rt"
# Without a process per call: under the debug kernel (KASAN+lockdep, TCG) every fork+exec costs
# a good part of a second, and the polling loops below would spend their time in date, sleep,
# grep and sed. now_ns: bash's clock (microseconds; the same realtime clock as the module's
# ktime_get_real_ns). nap: sleep by a read that times out on a FIFO nobody writes (opened
# read-write, so it never sees EOF; the guest has no /dev/fd for a process substitution).
now_ns() { echo "${EPOCHREALTIME/./}000"; }
rm -f "$work/nap.fifo" && mkfifo "$work/nap.fifo"
exec {nap_fd}<>"$work/nap.fifo"
nap() { read -r -t "$1" -u "$nap_fd" || true; }
has() { # <file> <substring>: the file contains it (read by bash, no grep)
	local text=
	[ -r "$1" ] || return 1
	read -r -d '' text <"$1" || true
	[[ $text == *"$2"* ]]
}
t0=$(now_ns)

log() { echo "[$(( ($(now_ns) - t0) / 1000000 )) ms] $*"; }
fail() {
	echo "FAIL: $*" | tee -a "$res/summary.txt"
	for f in "$work"/daemon-*.log "$work"/broker.log; do
		[ -f "$f" ] && { echo "--- $f (tail)"; tail -n 30 "$f"; }
	done
	exit 1
}
kset() { echo "$2" >"/proc/sys/kingest/$1" || fail "sysctl kingest.$1=$2"; }
stamp() { echo "$1 $(now_ns)" >>"$res/timeline.txt"; }
cleanup() {
	local p
	for p in ${daemon_pid:-} ${broker_pid:-}; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT

[ -x "$ingest" ] || fail "no $ingest (make build)"
[ -x "$ctl" ] || fail "no $ctl (tests/guest/run.sh builds it)"
[ -e /dev/kingest ] || fail "kingest.ko is not loaded"
: >"$res/summary.txt"
: >"$res/timeline.txt"
echo "scenario-start $t0" >>"$res/timeline.txt"
echo "mode=$mode" >>"$res/timeline.txt"

# --- quiet the module: no sensor, netdev or upcall traffic before the daemon
kset sensors_enable 0
kset netdev_enable 0
kset upcall_enable 0
kset image_size 0
kset sensor_count 4
nap 0.5	# deferred UDP sends of the last tick
cat /proc/kingest/stats >"$res/stats-0.txt"
log "module quiet: $(tr '\n' ';' <"$res/stats-0.txt")"

# --- broker, its own process: a SIGKILL of the daemon keeps the records
"$ingest" broker >"$work/broker.log" 2>&1 &
broker_pid=$!
for _ in $(seq $((200 * scale))); do
	while IFS= read -r line; do
		[[ $line == bootstrap=* ]] && { bootstrap=${line#bootstrap=}; break; }
	done <"$work/broker.log"
	[ -n "${bootstrap:-}" ] && break
	kill -0 "$broker_pid" 2>/dev/null || fail "broker exited"
	nap 0.1
done
[ -n "${bootstrap:-}" ] || fail "broker printed no bootstrap line"
echo "$bootstrap" >"$res/bootstrap.txt"
stamp broker-ready
log "broker at $bootstrap"

# --- the daemon's configuration; run.sh made the command key pair on the host
keys=$tools/keys
[ -f "$keys/ops.pub" ] || fail "no $keys/ops.pub (run.sh runs ingest keygen)"
cat >"$work/config.json" <<EOF
{
  "RuntimeDirectory": "$rt",
  "Udp": { "Endpoints": ["127.0.0.1:5555"], "MaxDatagramBytes": 2048 },
  "Proc": { "IntervalSeconds": 1,
            "Files": [ { "Path": "/proc/kingest/stats" }, { "Path": "/proc/kingest/sensors" } ] },
  "Netlink": { "Uevent": false, "Rtnetlink": false, "Generic": ["kingest/events"] },
  "Signals": { "Device": "auto" },
  "Ring": { "Enabled": "on" },
  "Stats": { "IntervalSeconds": 0, "ControlSocket": "$rt/control.sock" },
  "Pipeline": { "Batch": { "LingerMs": 20 } },
  "Commands": {
    "Enabled": true,
    "TrustedKeys": ["$keys/ops.pub"],
    "HostKey": "$keys/guest-a.key",
    "StateDirectory": "$work/state",
    "Ioctls": [
      { "Name": "set_rate", "Args": { "hz": { "Min": 1, "Max": 1000 } } },
      { "Name": "set_threshold" }
    ]
  }
}
EOF

start_daemon() { # <host id>
	stamp "daemon-$1-start"
	rm -f "$rt/signal.tid"
	# With the systemd unit's capability set: CAP_NET_ADMIN and CAP_SYS_NICE (the UDP receive
	# thread's nice) only; no CAP_SYS_ADMIN: the module's state-changing ioctls need
	# /dev/kingest opened for writing, not a capability.
	setpriv --bounding-set=-all,+net_admin,+sys_nice -- \
		"$ingest" run -c "$work/config.json" -b "$bootstrap" --host-id "$1" --spool-dir "$work/spool" \
		>"$work/daemon-$1.log" 2>&1 &
	daemon_pid=$!
	for _ in $(seq $((600 * scale))); do
		# Upcall socket, signal reader, control socket, and UDP port 5555 (0x15B3) bound.
		if [ -S "$rt/upcall.sock" ] && [ -s "$rt/signal.tid" ] && [ -S "$rt/control.sock" ] &&
			has /proc/net/udp ':15B3 '; then
			log "daemon $1 ready (pid $daemon_pid, $(grep CapEff /proc/$daemon_pid/status | tr -s "\t" " "))"
			stamp "daemon-$1-ready"
			return 0
		fi
		kill -0 "$daemon_pid" 2>/dev/null || fail "daemon $1 exited: $(tail -n 5 "$work/daemon-$1.log")"
		nap 0.1
	done
	fail "daemon $1 not ready after $((60 * scale)) s"
}

quiesce() { # <label>
	/usr/bin/python3 "$root/tests/guest/drained.py" "$rt/control.sock" "$daemon_pid" \
		"$res/daemon-stats-$1.json" $((90 * scale)) || fail "pipeline did not drain ($1); see daemon-stats-$1.json"
	log "quiet ($1)"
	stamp "quiesced-$1"
}

dump() { # <file>
	# fetch.wait.max.ms: the broker answers an empty fetch at once, not after 500 ms (each
	# partition's end is seen sooner: about 1 s less per dump under the debug kernel).
	timeout $((60 * scale)) kcat -b "$bootstrap" -C -t kernel.events -o beginning -e -q \
		-X fetch.wait.max.ms=10 -f '%R%s' >"$1" || fail "kcat could not read kernel.events"
}

start_daemon guest-a
# The genl channel numbers events only while someone listens: wait until the
# daemon joined the group (an empty genl-only probe is accepted). Accepted
# probes are ordinary events and are checked like the others.
for _ in $(seq $((300 * scale))); do
	probe=$("$ctl" raw 0x2 4 0) || fail "kingest-ctl raw"
	[ $((probe & 2)) != 0 ] && break
	nap 0.1
done
[ $((probe & 2)) != 0 ] || fail "the daemon did not join the kingest genl group within $((30 * scale)) s"

# --- phase A: injected events on every push channel ----------------------
kset upcall_helper "/host$tools/ingest-upcall"
kset upcall_rate 1000
kset upcall_enable 1
stamp inject-start
"$ctl" inject 0x1f 40 GT 30 >"$res/inject.txt" || fail "kingest-ctl inject"
stamp inject-end
log "injected 40 events on ring, genl, signal, upcall, udp"

# --- hostile input on each transport --------------------------------------
# Unknown event types, empty and maximal payloads from the kernel; malformed
# datagrams, upcall messages and foreign signals from user space.
/usr/bin/python3 "$root/tests/guest/hostile.py" "$ctl" "$rt" "$res/hostile.json" ||
	fail "hostile input phase"
log "hostile input sent"
nap 2	# helpers spawned by the last upcalls
kset upcall_enable 0

# --- phase B: simulated sensors, thermal images, netdev events ------------
# The debug mode halves the sensor load (10 Hz, set_rate to 2 Hz: the same 5x step): at 20 Hz the
# daemon and broker keep the debug guest's two CPUs busy, and set_rate took 79 s to apply there.
hz=20 cmd_hz=4
[ "$mode" = debug ] && hz=10 cmd_hz=2
echo "rates=$hz,$cmd_hz" >>"$res/timeline.txt"
kset rate_hz $hz
kset image_size 256
kset netdev_enable 1
stamp sensors-start
kset sensors_enable 1
modprobe veth 2>/dev/null || true	# built in (no modprobe) on the debug kernel
if ip link add gt0 type veth peer name gt1 2>/dev/null; then
	ip link set gt0 up && ip link set gt0 mtu 1400 && ip link set gt0 down
	ip link del gt0
	echo netdev=veth >>"$res/timeline.txt"
else
	echo netdev=none >>"$res/timeline.txt"
fi
nap 3

# --- issue 5: signed ioctl commands change the sensors observably ---------
# Sent by sendcmd.py (python3-cryptography + kcat): an independent signer,
# and no .NET start-up (tens of seconds under TCG) per command.
send() {
	GUEST_TIME_SCALE=$scale timeout $((120 * scale)) /usr/bin/python3 "$root/tests/guest/sendcmd.py" "$bootstrap" guest-a "$keys/ops.key" "$keys/guest-a.pub" "$@"
}
if [ "$mode" = full ]; then
	stamp threshold-send
	send set_threshold sensor_id=1 threshold_mc=-50000 >"$res/send-threshold.txt" 2>&1 ||
		fail "set_threshold not applied: $(cat "$res/send-threshold.txt")"
	stamp threshold-applied
	nap 2
fi
stamp rate-send
send set_rate hz=$cmd_hz >"$res/send-rate.txt" 2>&1 ||
	fail "set_rate not applied: $(cat "$res/send-rate.txt")"
stamp rate-applied
[ "$(cat /proc/sys/kingest/rate_hz)" = $cmd_hz ] ||
	fail "rate_hz is $(cat /proc/sys/kingest/rate_hz) after set_rate hz=$cmd_hz"
nap 4
# A command outside the allowlist is refused and changes nothing.
if [ "$mode" = full ]; then
	if send set_rate hz=5000 >"$res/send-denied.txt" 2>&1; then
		fail "set_rate hz=5000 (outside the allowlist) was applied"
	fi
	has "$res/send-denied.txt" denied || fail "set_rate hz=5000: $(cat "$res/send-denied.txt")"
	[ "$(cat /proc/sys/kingest/rate_hz)" = 4 ] || fail "a denied command changed rate_hz"
fi
kset sensors_enable 0
kset netdev_enable 0
stamp sensors-end
log "sensors and commands done"

# --- quiesce, then the module's counters against what was delivered -------
kset proc_enable 0	# sensors file reads empty: proc emitted stops
nap 1.5
quiesce a
cat /proc/kingest/stats >"$res/stats-1.txt"
"$ctl" stats >"$res/ioctl-stats-1.txt"
dump "$res/dump-a.bin"
stamp dumped-a
kset proc_enable 1
log "phase A/B done: $(tr '\n' ';' <"$res/stats-1.txt")"

# --- SIGKILL stress: the ring must lose nothing across many kills ---------
# KILLS daemons (ring only: fast to start, and the topic stays well under the
# mock broker's 5 MiB) are each SIGKILLed at a random moment while bursts of
# 300..1500 ring records arrive. The kill-phase daemons batch in 4 KiB chunks
# and 256-event records, so one burst spans many chunks and several records:
# records split bursts, which is where a checkpoint can run ahead of its events.
# A last daemon (guest-b) then drains the ring; check.py wants every ring
# kseq 1..last in the topic (duplicates allowed and counted) and no drop.
kills=${KINGEST_KILLS:-$([ "$mode" = debug ] && echo 1 || echo 20)}
echo "kills=$kills" >>"$res/timeline.txt"
cat >"$work/kill.json" <<EOF
{
  "RuntimeDirectory": "$rt",
  "Udp": { "Enabled": false },
  "Proc": { "Enabled": false },
  "Netlink": { "Enabled": false },
  "Signals": { "Enabled": false },
  "Upcall": { "Enabled": false },
  "Ring": { "Enabled": "on" },
  "Heartbeat": { "Enabled": false },
  "Spool": { "Directory": "$work/spool-kill" },
  "Stats": { "IntervalSeconds": 0, "ControlSocket": "$rt/control.sock" },
  "Pipeline": { "Batch": { "LingerMs": 20, "ChunkBytes": 4096, "MaxEvents": 256 } }
}
EOF

start_ring_daemon() { # <host id>
	stamp "daemon-$1-start"
	rm -f "$rt/control.sock"
	"$ingest" run -c "$work/kill.json" -b "$bootstrap" --host-id "$1" \
		>"$work/daemon-$1.log" 2>&1 &
	daemon_pid=$!
	for _ in $(seq $((600 * scale))); do
		if [ -S "$rt/control.sock" ] && has "$work/daemon-$1.log" 'running 1 source'; then
			stamp "daemon-$1-ready"
			return 0
		fi
		kill -0 "$daemon_pid" 2>/dev/null || fail "daemon $1 exited: $(tail -n 5 "$work/daemon-$1.log")"
		nap 0.1
	done
	fail "daemon $1 not ready after $((60 * scale)) s"
}

bursts() { # <tag>: ring bursts of 300..1500 records, 50..250 ms apart, until killed
	local n=0
	while :; do
		"$ctl" inject 0x1 $((300 + RANDOM % 1201)) "$1-$n" 0 >/dev/null || exit 1
		n=$((n + 1))
		nap "0.$((5 + RANDOM % 21))"
	done
}

kill "$daemon_pid"
wait "$daemon_pid" 2>/dev/null || true
daemon_pid=
kset genl_enable 0
kset signal_enable 0
kset udp_enable 0
kset upcall_enable 0
kset image_size 0
kset rate_hz 5	# a trickle under the bursts (faster fills the 1 MiB ring while each restart takes ~15 s)
stamp kill-phase-start
kset sensors_enable 1
for i in $(seq "$kills"); do
	start_ring_daemon "guest-k$i"
	bursts "K$i" &
	bursts_pid=$!
	# A random moment 0.2..2.9 s into the bursts.
	nap "$((RANDOM % 3)).$((2 + RANDOM % 8))"
	kill -9 "$daemon_pid"
	wait "$daemon_pid" 2>/dev/null || true
	kill "$bursts_pid" 2>/dev/null || true
	wait "$bursts_pid" 2>/dev/null || true
	stamp "killed-$i"
	daemon_pid=
done
log "$kills SIGKILLs under ring bursts"
start_ring_daemon guest-b
nap 2
kset sensors_enable 0
stamp kill-phase-end
nap 1
quiesce b
cat /proc/kingest/stats >"$res/stats-2.txt"
dump "$res/dump-b.bin"
stamp dumped-b
kill "$daemon_pid"
wait "$daemon_pid" 2>/dev/null || true
daemon_pid=

cp "$work"/daemon-*.log "$work/broker.log" "$res/" 2>/dev/null || true
stamp scenario-end
log "scenario done; run.sh checks the results on the host"
echo "guest time: $(( ($(now_ns) - t0) / 1000000 )) ms" >>"$res/summary.txt"
