#!/usr/bin/python3
"""Reads `ingest stats --json` on stdin. Exit 0 when the pipeline is drained: nothing queued or in
flight and every source's events delivered (delivered == received, nothing dropped after the
source). Prints a fingerprint of the non-proc sources' counts (proc scrapes go on by design) so
the caller can tell when they stopped moving."""
import json
import sys

s = json.load(sys.stdin)
drained = s["sink_queue"] == 0 and s["in_flight"] == 0
parts = []
for src in s["sources"]:
    drained = drained and src["queue"] == 0 and src["delivered"] == src["received"]
    if src["channel"] != "proc":
        parts.append(f'{src["channel"]}/{src["source"]}={src["received"]}/{src["delivered"]}')
print(" ".join(sorted(parts)))
sys.exit(0 if drained else 1)
