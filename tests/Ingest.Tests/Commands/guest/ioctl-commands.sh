#!/usr/bin/env bash
# Guest scenario (kmodule/vm/run-guest.sh): ioctl commands sent with `ingest send` change the
# kingest module's behaviour observably on kernel.events. The daemon publishes the module's UDP
# channel (one datagram per event: struct kingest_record + struct kingest_sensor_reading) and
# applies signed commands on /dev/kingest. Checked from the event topic, via `ingest tail`:
#   set_threshold sensor_id=0 threshold_mc=-99999  -> later sensor-0 readings carry that
#                                                     threshold and the ALARM flag
#   set_rate hz=1 (from 10)                         -> later readings are ~1 s apart (kernel ts)
# and the allowlist still holds in the guest: hz=5000 and an ioctl not listed are denied.
#
# Environment: COMMANDS_INGEST_DLL = the built ingest.dll (run-guest passes KINGEST_GUEST_ENV_COMMANDS_INGEST_DLL;
# not INGEST_*: the daemon reads those as configuration).
set -euo pipefail

ingest=${COMMANDS_INGEST_DLL:?set KINGEST_GUEST_ENV_COMMANDS_INGEST_DLL to the built ingest.dll}
out=${KINGEST_RESULTS:-/tmp}
work=$(mktemp -d /tmp/ingest-guest.XXXXXX)
cd "$work"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
run() { dotnet "$ingest" "$@"; }
fail() { echo "FAIL: $*"; exit 1; }

k=/proc/sys/kingest
echo 2 > $k/sensor_count
echo 10 > $k/rate_hz
echo 127.0.0.1 > $k/udp_addr
echo 5555 > $k/udp_port
echo 1 > $k/udp_enable

run keygen -o "$work" -n ops > keygen.out
cat > config.json <<JSON
{
  "HostId": "guest",
  "Udp": { "Endpoints": [ "127.0.0.1:5555" ] },
  "Stats": { "IntervalSeconds": 0, "ControlSocket": "$work/control.sock" },
  "Pipeline": { "Batch": { "LingerMs": 20 } },
  "Commands": {
    "Enabled": true,
    "TrustedKeys": [ "$work/ops.pub" ],
    "StateDirectory": "$work/state",
    "Ioctls": [
      { "Name": "set_rate", "Args": { "hz": { "Min": 1, "Max": 100 } } },
      { "Name": "set_threshold" }
    ]
  }
}
JSON
run run -c config.json > daemon.out 2> daemon.err &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null || true; cp -f daemon.err "$out/daemon.err" 2>/dev/null || true' EXIT
for _ in $(seq 600); do grep -q '^bootstrap=' daemon.out && break; sleep 0.2; done
bs=$(sed -n 's/^bootstrap=//p' daemon.out)
[ -n "$bs" ] || fail "daemon did not start: $(cat daemon.err)"
echo "bootstrap=$bs"

send() { timeout 240 dotnet "$ingest" send -b "$bs" --host guest --key ops.key --timeout 180 --ttl 600 "$@"; }

run tail -b "$bs" --channel udp -n 20 --timeout 120 > before.jsonl
echo "before: $(wc -l < before.jsonl) events"

send --ioctl set_threshold sensor_id=0 threshold_mc=-99999 | tee threshold.out
send --ioctl set_rate hz=1 | tee rate.out
changed_ns=$(date +%s%N)

set +e
send --ioctl set_rate hz=5000 > denied-range.out; rc_range=$?
send --ioctl reset_stats > denied-name.out; rc_name=$?
set -e
cat denied-range.out denied-name.out
[ $rc_range = 1 ] && grep -q '^denied .*outside the allowed 1..100' denied-range.out || fail "hz=5000 not denied (rc $rc_range)"
[ $rc_name = 1 ] && grep -q '^denied .*ioctl reset_stats is not allowlisted' denied-name.out || fail "reset_stats not denied (rc $rc_name)"

run tail -b "$bs" --channel udp -n 10 --timeout 120 > after.jsonl
echo "after: $(wc -l < after.jsonl) events"

/usr/bin/python3 - "$changed_ns" <<'PY'
import base64, json, statistics, struct, sys

changed = int(sys.argv[1])

def payloads(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "payload" and isinstance(value, str):
                yield base64.b64decode(value)
            else:
                yield from payloads(value)
    elif isinstance(node, list):
        for item in node:
            yield from payloads(item)

def sensor0(path):
    readings = []
    for line in open(path):
        for raw in payloads(json.loads(line)):
            length, etype, channel, flags, seq, ts = struct.unpack_from("<IHBBQQ", raw)
            if etype != 1 or len(raw) < 40:
                continue
            sid, mc, threshold, sflags = struct.unpack_from("<IiiI", raw, 24)
            if sid == 0:
                readings.append((ts, mc, threshold, sflags))
    return readings

def gaps(readings):
    ts = sorted(r[0] for r in readings)
    return [(b - a) / 1e9 for a, b in zip(ts, ts[1:])]

before = sensor0("before.jsonl")
after = [r for r in sensor0("after.jsonl") if r[0] > changed]
print("before", before)
print("after", after)
assert len(before) >= 3, "too few sensor-0 readings before"
assert len(after) >= 3, "too few sensor-0 readings after the change"
assert all(r[2] != -99999 for r in before), "threshold already -99999 before the command"
assert all(r[2] == -99999 and r[3] & 1 for r in after), "threshold/alarm not in force after set_threshold"
gb, ga = statistics.median(gaps(before)), statistics.median(gaps(after))
print(f"median gap before {gb:.3f} s, after {ga:.3f} s")
assert gb < 0.5, "rate was not ~10 Hz before"
assert ga > 0.5, "set_rate hz=1 did not slow the sensors"
PY
grep -q '^applied ' threshold.out || fail "set_threshold not applied"
grep -q '^applied ' rate.out || fail "set_rate not applied"
cp -f before.jsonl after.jsonl "$out/" 2>/dev/null || true
echo "PASS: ioctl commands changed the module's behaviour on kernel.events"
