#!/usr/bin/python3
"""Waits until the daemon has delivered everything its sources read and the module's counters
stopped moving: nothing queued or in flight, every source's delivered == received, and neither the
counts of the sources other than proc scrapes and heartbeats nor /proc/kingest/stats (but its proc line: the daemon's scrapes go on by
design) changed over the last poll. Reads the daemon's control socket directly (the JSON
`ingest stats --json` prints) so no .NET process starts per poll.

usage: drained.py <control socket> <daemon pid> <out.json> [timeout s]
Exit 0 when quiet (the last snapshot is written to out.json), 1 on timeout or a dead daemon."""
import json
import os
import socket
import sys
import time

path, pid, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
deadline = time.monotonic() + (float(sys.argv[4]) if len(sys.argv) > 4 else 60)


def snapshot():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    s.close()
    return json.loads(data)


def module_counts():
    with open("/proc/kingest/stats") as f:
        return [line for line in f if not line.startswith("proc ")]


prev, stats = None, None
while time.monotonic() < deadline:
    time.sleep(0.5)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        print(f"drained: daemon {pid} is gone")
        break
    try:
        stats = snapshot()
    except OSError as e:
        print(f"drained: control socket: {e}")
        continue
    drained = stats["sink_queue"] == 0 and stats["in_flight"] == 0
    counts = []
    for src in stats["sources"]:
        drained = drained and src["queue"] == 0 and src["delivered"] == src["received"]
        if src["channel"] not in ("proc", "ingest"):  # scrapes and heartbeats go on by design
            counts.append((src["channel"], src["source"], src["received"], src["delivered"]))
    now = (sorted(counts), module_counts())
    if drained and now == prev:
        with open(out, "w") as f:
            json.dump(stats, f)
        sys.exit(0)
    prev = now
with open(out, "w") as f:
    json.dump(stats, f)
sys.exit(1)
