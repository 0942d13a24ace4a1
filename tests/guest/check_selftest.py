#!/usr/bin/python3
"""Proves check.py can fail: from a passing run's results, writes dumps with one defect each (a
lost, corrupted, duplicated or reordered event on each channel, a ring record lost across the
SIGKILL) and requires check.py to reject every one of them, and to accept the unmodified dumps.

usage: check_selftest.py <results dir of a passing run>"""
import collections
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import msgpack

here = os.path.dirname(os.path.abspath(__file__))
results = sys.argv[1]


def read(path):
    data, pos, out = open(path, "rb").read(), 0, []
    while pos < len(data):
        (n,) = struct.unpack(">i", data[pos:pos + 4])
        out.append(msgpack.unpackb(data[pos + 4:pos + 4 + n], raw=False))
        pos += 4 + n
    return out


def write(path, records):
    with open(path, "wb") as f:
        for r in records:
            b = msgpack.packb(r, use_bin_type=True)
            f.write(struct.pack(">i", len(b)) + b)


def find(records, pred):
    for r in records:
        for i, e in enumerate(r["events"]):
            if pred(r, e):
                return r, i
    raise SystemExit("selftest: no event to mutate")


marker = lambda e: isinstance(e["data"].get("payload"), bytes) and b"GT-7" in e["data"]["payload"]


def drop(pred):
    def m(recs):
        r, i = find(recs, pred)
        del r["events"][i]
    return m


def drop_renumbered(pred):
    """A loss the daemon's own seq cannot show (before numbering): only the module's sequence can."""
    def m(recs):
        r, i = find(recs, pred)
        key = (r["host"], r["channel"], r["source"])
        del r["events"][i]
        n = 0
        for rec in recs:
            if (rec["host"], rec["channel"], rec["source"]) == key:
                for e in rec["events"]:
                    e["seq"] = n
                    n += 1
    return m


def corrupt(pred):
    def m(recs):
        r, i = find(recs, pred)
        p = bytearray(r["events"][i]["data"]["payload"])
        p[-1] ^= 0x01
        r["events"][i]["data"]["payload"] = bytes(p)
    return m


def duplicate(pred):
    def m(recs):
        r, i = find(recs, pred)
        r["events"].insert(i, r["events"][i])
    return m


def field(pred, key, value):
    def m(recs):
        r, i = find(recs, pred)
        r["events"][i]["data"][key] = value
    return m


def flip(pred, key):
    def m(recs):
        r, i = find(recs, pred)
        r["events"][i]["data"][key] = not r["events"][i]["data"][key]
    return m


# The debug mode (scenario.sh SCENARIO_MODE=debug) sends no set_threshold: any sensor-1 reading.
debug = "mode=debug" in open(os.path.join(results, "timeline.txt")).read().split()


cases_a = {
    "ring marker lost": drop(lambda r, e: r["channel"] == "ring" and marker(e)),
    "ring marker lost before numbering": drop_renumbered(lambda r, e: r["channel"] == "ring" and marker(e)),
    "genl sensor lost before numbering": drop_renumbered(
        lambda r, e: r["channel"] == "netlink" and e["type"] == "sensor"),
    "signal lost before numbering": drop_renumbered(lambda r, e: r["channel"] == "signal" and e["seq"] == 100),
    "udp datagram lost before numbering": drop_renumbered(lambda r, e: r["channel"] == "udp" and e["seq"] == 100),
    "upcall lost before numbering": drop_renumbered(lambda r, e: r["channel"] == "upcall" and e["seq"] == 10),
    "genl marker corrupted": corrupt(lambda r, e: r["channel"] == "netlink" and marker(e)),
    "udp event duplicated": duplicate(lambda r, e: r["channel"] == "udp"),
    "signal event lost": drop(lambda r, e: r["channel"] == "signal" and e["seq"] == 100),
    "upcall event lost": drop(lambda r, e: r["channel"] == "upcall" and "kingest" in e["data"]),
    "proc scrape lost": drop(lambda r, e: r["source"] == "/proc/kingest/sensors"),
    "sensor reading altered": field(lambda r, e: r["channel"] == "netlink" and e["type"] == "sensor",
                                    "milli_celsius", 123456),
    "alarm flag wrong": flip(lambda r, e: r["channel"] == "ring" and e["type"] == "sensor"
                             and e["data"]["sensor_id"] == 1 and (debug or e["data"]["threshold_mc"] == -50000),
                             "alarm"),
}
# A record a kill-phase daemon delivered that nobody else did (after a SIGKILL some are duplicates).
kseqs = collections.Counter(e["data"]["kseq"] for r in read(os.path.join(results, "dump-b.bin"))
                            if r["channel"] == "ring" for e in r["events"])
only_b = lambda r, e: r["host"] != "guest-a" and r["channel"] == "ring" and kseqs[e["data"]["kseq"]] == 1
cases_b = {
    "ring record lost across SIGKILL": drop(only_b),
    "ring record lost across SIGKILL, renumbered": drop_renumbered(only_b),
}

a, b = read(os.path.join(results, "dump-a.bin")), read(os.path.join(results, "dump-b.bin"))
failed = 0
with tempfile.TemporaryDirectory() as tmp:
    def run(name, recs_a, recs_b, expect_pass):
        global failed
        rdir = os.path.join(tmp, "r")
        shutil.rmtree(rdir, ignore_errors=True)
        os.makedirs(rdir)
        for f in os.listdir(results):
            if f.endswith((".txt", ".json")):
                shutil.copy(os.path.join(results, f), rdir)
        open(os.path.join(rdir, "summary.txt"), "w").close()
        write(os.path.join(tmp, "a.bin"), recs_a)
        write(os.path.join(tmp, "b.bin"), recs_b)
        rc = subprocess.run(["/usr/bin/python3", os.path.join(here, "check.py"), "--results", rdir,
                             "--dump-a", os.path.join(tmp, "a.bin"), "--dump-b", os.path.join(tmp, "b.bin")],
                            capture_output=True, text=True)
        ok = (rc.returncode == 0) == expect_pass
        first = next((ln for ln in rc.stdout.splitlines() if ln.startswith("FAIL")), "no FAIL line")
        print(f"{'ok  ' if ok else 'BAD '} {name}: {'accepted' if rc.returncode == 0 else first}")
        failed += not ok

    run("unmodified dumps", read(os.path.join(results, "dump-a.bin")), b, True)
    for name, mutate in cases_a.items():
        recs = read(os.path.join(results, "dump-a.bin"))
        mutate(recs)
        run(name, recs, b, False)
    for name, mutate in cases_b.items():
        recs = read(os.path.join(results, "dump-b.bin"))
        mutate(recs)
        run(name, a, recs, False)
sys.exit(1 if failed else 0)
