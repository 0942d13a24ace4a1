#!/usr/bin/python3
"""The guest scenario's verdict, independent of the daemon's C# decoders: kcat dumps (`-f '%R%s'`:
4-byte big-endian length, then the value) decoded with python3-msgpack, the module's ABI decoded
here with struct from kingest.h's layout, and the module's own counters (/proc/kingest/stats).

Dump A: everything guest-a (the first daemon) published before the SIGKILL phase. Dump B: the
whole topic after the restart (guest-a and guest-b). Prints every failed check and a summary;
writes summary.txt and check.json to the results directory; exits 1 on any failure."""
import argparse
import collections
import json
import os
import statistics
import struct
import sys

import msgpack

EV_SENSOR, EV_IMAGE, EV_NETDEV, EV_INJECT = 1, 2, 3, 4
HDR = struct.Struct("<IHBBQQ")  # struct kingest_record: len, type, channel, flags, seq, ts_ns
SENSOR = struct.Struct("<IiiI")  # struct kingest_sensor_reading
CH_UDP = 4
PUSH = ("ring", "genl", "signal", "upcall", "udp")

failures = []
summary = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL:", what)
    return ok


def read_dump(path):
    data = open(path, "rb").read()
    events, pos = [], 0
    while pos < len(data):
        (length,) = struct.unpack(">i", data[pos:pos + 4])
        pos += 4
        record = msgpack.unpackb(data[pos:pos + length], raw=False)
        pos += length
        assert record["v"] == 1, record
        for e in record["events"]:
            events.append({"host": record["host"], "channel": record["channel"],
                           "source": record["source"], **e})
    return events


def read_kstats(path):
    out = {}
    for line in open(path):
        f = line.split()
        out[f[0]] = {f[i]: int(f[i + 1]) for i in range(1, len(f) - 1, 2)}
    return out


def read_timeline(path):
    """Lines "<mark> <unix ns>" (guest clock, the same as the module's ktime_get_real_ns) or "key=value"."""
    t = {}
    for line in open(path):
        line = line.strip()
        if "=" in line:
            k, v = line.split("=", 1)
            t[k] = v
        elif line:
            k, v = line.split()
            t[k] = int(v)
    return t


def transport(stats, channel, source_prefix=""):
    for s in stats["sources"]:
        if s["channel"] == channel and s["source"].startswith(source_prefix):
            return s["transport"]
    return {}


def daemon_seq_contiguous(events, label):
    by = collections.defaultdict(list)
    for e in events:
        by[(e["host"], e["channel"], e["source"])].append(e["seq"])
    for key, seqs in sorted(by.items()):
        s = sorted(seqs)
        check(s == list(range(len(s))),
              f"{label}: daemon seq of {key} is not 0..{len(s) - 1} exactly once "
              f"(first {s[:3]}, last {s[-3:]}, {len(s) - len(set(s))} duplicates)")
    return by


def kernel_events(events, hostile_port):
    """Per push channel: (channel seq, ts, type, payload bytes or None, event) in arrival order."""
    out = {c: [] for c in PUSH}
    udp_foreign = []
    for e in events:
        d = e["data"]
        if e["channel"] == "ring":
            payload = d.get("payload")
            out["ring"].append((d["kseq"], e["ts"], e["type"], payload, e))
        elif e["channel"] == "netlink" and e["source"].startswith("genl:kingest"):
            # The same shape as the ring's: type sensor/image/netdev/inject, kseq, payload fields.
            out["genl"].append((d["kseq"], e["ts"], e["type"], d.get("payload"), e))
        elif e["channel"] == "signal" and d.get("origin") == "module":
            k = d["kingest"]
            out["signal"].append((k["seq"], e["ts"], k["type"], None, e))
        elif e["channel"] == "upcall" and "kingest" in d:
            k = d["kingest"]
            out["upcall"].append((k["seq"], k["ts_ns"], k["type"], k["payload"], e))
        elif e["channel"] == "udp":
            raw = d["payload"]
            if d["src"].endswith(f":{hostile_port}") or len(raw) < HDR.size:
                udp_foreign.append(e)
                continue
            length, typ, ch, flags, seq, ts = HDR.unpack_from(raw)
            check(ch == CH_UDP and length == len(raw),
                  f"udp datagram seq {seq}: header channel {ch} len {length}, datagram {len(raw)} bytes")
            out["udp"].append((seq, ts, typ, raw[HDR.size:], e))
    return out, udp_foreign


def check_counts(kev, k0, k1, dstats):
    """Channel sequence numbers without gaps; delivered == emitted by the module while the daemon ran."""
    for ch in PUSH:
        seqs = [x[0] for x in kev[ch]]
        e0, d0 = k0[ch]["emitted"], k0[ch]["dropped"]
        e1, d1 = k1[ch]["emitted"], k1[ch]["dropped"]
        check(d1 == d0, f"{ch}: the module dropped {d1 - d0} events during the run")
        if ch == "signal":
            # si_int carries the sequence modulo 256: consecutive signals must step by one.
            steps = [(b - a) % 256 for a, b in zip(seqs, seqs[1:])]
            bad = sum(1 for s in steps if s != 1)
            check(bad == 0, f"signal: {bad} gaps or reorderings in the 8-bit sequence")
            check(not seqs or seqs[0] == (e0 + d0 + 1) % 256,
                  f"signal: first sequence {seqs[:1]} != {(e0 + d0 + 1) % 256}")
            delivered = len(seqs)
            check(delivered == e1 - e0, f"signal: delivered {delivered} != module emitted {e1 - e0}")
        else:
            first = 1 if ch == "ring" else e0 + d0 + 1  # the ring keeps what came before the daemon
            expected = set(range(first, e1 + d1 + 1))
            got = collections.Counter(seqs)
            dups = sum(n - 1 for n in got.values())
            missing = sorted(expected - set(got))
            extra = sorted(set(got) - expected)
            allowed = 0
            if ch in ("ring", "genl"):  # events the decoder does not know are counted, not published
                t = transport(dstats, "ring") if ch == "ring" else transport(dstats, "netlink", "genl:")
                allowed = t.get("unknown_type", 0) + t.get("bad_payload", 0)
            check(len(missing) == allowed,
                  f"{ch}: {len(missing)} sequence numbers missing (allowed {allowed}, counted by the "
                  f"daemon): {missing[:10]}")
            check(not extra, f"{ch}: sequence numbers outside {first}..{e1 + d1}: {extra[:10]}")
            check(dups == 0, f"{ch}: {dups} duplicates without a restart")
            delivered = len(seqs) + allowed
            emitted = e1 if ch == "ring" else e1 - e0
            check(delivered == emitted, f"{ch}: delivered {delivered} != module emitted {emitted}")
        summary.append(f"{ch:7s} delivered {delivered:6d}  module emitted {emitted if ch != 'signal' else e1 - e0:6d} "
                       f"while the daemon ran (total {e1}, dropped {d1}, errors {k1[ch]['errors']})")


def check_markers(kev, inject):
    for i, accepted, payload in inject:
        check(accepted == 0x1F, f"marker {i}: accepted mask {accepted:#x}, expected 0x1f")
    want = {p: i for i, _, p in inject}
    for ch in ("ring", "genl", "upcall", "udp"):
        seen = collections.defaultdict(list)
        for seq, ts, typ, payload, e in kev[ch]:
            if payload is not None and bytes(payload) in want:
                check(typ in (EV_INJECT, "inject"), f"{ch}: marker with type {typ}")
                seen[bytes(payload)].append(ts)
                if ch == "upcall":
                    d = e["data"]
                    check(d["kingest"]["len"] == len(payload) and not d["kingest"]["truncated"]
                          and d["argv"][5] == bytes(payload).hex(),
                          f"upcall: marker fields {d['kingest']} argv {d['argv']}")
        for p, i in want.items():
            check(len(seen[p]) == 1, f"{ch}: marker {i} arrived {len(seen[p])} times")
    # One event, one timestamp on every channel that carries it.
    for p, i in want.items():
        stamps = {ch: [x[1] for x in kev[ch] if x[3] is not None and bytes(x[3]) == p]
                  for ch in ("ring", "genl", "upcall", "udp")}
        flat = {tuple(v) for v in stamps.values()}
        check(len(flat) == 1, f"marker {i}: timestamps differ between channels {stamps}")
    # The signal carries the first two payload bytes (the marker index, little endian), in order.
    sig = [x[4]["data"]["kingest"] for x in kev["signal"] if x[2] == EV_INJECT]
    details = [k.get("detail") for k in sig[:len(inject)]]
    check(details == [i for i, _, _ in inject],
          f"signal: inject details {details[:8]}... != marker indexes 0..{len(inject) - 1}")
    summary.append(f"markers {len(inject)} x ring genl signal upcall udp: all present once, fields intact")


def check_hostile(kev, udp_foreign, hostile, dstats):
    k = hostile["kernel"]
    check(all(h["accepted"] == h["mask"] for h in k), f"hostile kernel injects not accepted: {k}")
    # Unknown type 0x7f: counted and skipped by the ring and genl decoder (as kingest.h asks of
    # consumers), published raw by signal, upcall and udp.
    t = transport(dstats, "ring")
    check(t.get("unknown_type") == 1, f"ring: unknown_type not counted exactly once {t}")
    t = transport(dstats, "netlink", "genl:")
    check(t.get("unknown_type") == 1, f"genl: unknown_type not counted exactly once {t}")
    for ch in ("signal", "upcall", "udp"):
        check(any(x[2] == 0x7F or x[2] == "unknown" for x in kev[ch]),
              f"{ch}: the unknown-type event did not arrive")
    for ch in ("ring", "genl", "upcall", "udp"):
        check(any(x[2] in (EV_INJECT, "inject") and x[3] is not None and len(x[3]) == 0 for x in kev[ch]),
              f"{ch}: the empty-payload event did not arrive")
    big = bytes(i & 0xFF for i in range(16384))
    for ch in ("ring", "genl"):
        check(any(x[3] is not None and bytes(x[3]) == big for x in kev[ch]),
              f"{ch}: the 16384-byte payload did not arrive intact")
    up = [x[4]["data"]["kingest"] for x in kev["upcall"] if x[4]["data"]["kingest"]["len"] == 16384]
    check(len(up) == 1 and up[0]["truncated"] and bytes(up[0]["payload"]) == big[:256],
          f"upcall: the 16384-byte event is not flagged truncated with 256 bytes: {len(up)}")
    # User-space hostile input: counted, and the daemon went on (dump A was taken after it).
    t = transport(dstats, "udp")
    u = hostile["udp"]
    # Oversize (> MaxDatagramBytes) and empty datagrams are dropped and counted; the rest arrive.
    want_udp = u["datagrams"] - u["oversize"] - u["empty"]
    check(len(udp_foreign) == want_udp, f"udp: {len(udp_foreign)} foreign datagrams delivered, expected {want_udp}")
    check(t.get("truncated") == u["oversize"] and t.get("zero_length") == u["empty"],
          f"udp: oversize/empty not counted exactly {t}")
    t = transport(dstats, "upcall")
    bad = t.get("malformed", 0) + t.get("timeout", 0)
    want = hostile["upcall"]["malformed"] + hostile["upcall"]["silent"]
    check(bad == want, f"upcall: {bad} malformed/timeout counted, {want} sent {t}")
    t = transport(dstats, "signal")
    check(t.get("denied_sender") == hostile["signal"]["denied_uid"] + hostile["signal"].get("forged_module", 0),
          f"signal: denied_sender not counted exactly (a foreign uid, a forged module signal) {t}")
    summary.append("hostile: unknown type, empty, 16 KiB payloads; oversize/empty/foreign datagrams; "
                   f"{want} bad upcall messages; foreign signals: all counted, daemon survived")


def check_sensors(kev, events, timeline, k0, k1):
    every = sorted((x for x in kev["ring"] if x[2] == "sensor"), key=lambda x: x[0])
    # Readings the ring kept from before the daemon started have no copy on the other channels.
    ring = [x for x in every if x[0] > k0["ring"]["emitted"] + k0["ring"]["dropped"]]
    check(len(ring) > 20, f"ring: only {len(ring)} sensor events")
    for x in every:
        d = x[4]["data"]
        check(0 <= d["sensor_id"] < 4 and d["alarm"] == (d["milli_celsius"] > d["threshold_mc"]),
              f"ring sensor event {d}")
    key = lambda d, ts: (ts, d["sensor_id"], d["milli_celsius"], d["threshold_mc"], d["alarm"])
    r = sorted(key(x[4]["data"], x[1]) for x in ring)
    g = sorted(key(x[4]["data"], x[1]) for x in kev["genl"] if x[2] == "sensor")
    u = []
    for x in kev["udp"]:
        if x[2] == EV_SENSOR:
            sid, mc, thr, flags = SENSOR.unpack_from(x[3])
            u.append((x[1], sid, mc, thr, bool(flags & 1)))
    check(r == g, f"genl sensor events differ from the ring's ({len(g)} vs {len(r)})")
    check(r == sorted(u), f"udp sensor events differ from the ring's ({len(u)} vs {len(r)})")
    s = [x[4]["data"]["kingest"] for x in kev["signal"] if x[2] == EV_SENSOR]
    ring_order = [(x[4]["data"]["sensor_id"], x[4]["data"]["alarm"]) for x in ring]
    check([(k["sensor_id"], k["alarm"]) for k in s] == ring_order,
          f"signal sensor events (id, alarm) differ from the ring's order ({len(s)} vs {len(ring)})")
    check(all(abs(k["degrees_c"] * 1000 - x[4]["data"]["milli_celsius"]) <= 1000 or abs(k["degrees_c"]) >= 127
              for k, x in zip(s, ring)), "signal: degrees_c does not match the reading")
    # Thermal images: pixels[i] == (frame + i) & 0xff, frames from consecutive ticks.
    images = [x[4]["data"] for x in kev["ring"] if x[2] == "image"]
    check(len(images) > 0, "ring: no thermal images")
    for d in images:
        px = bytes(d["pixels"])
        check(len(px) == 256 and px == bytes((d["frame"] + i) & 0xFF for i in range(256)),
              f"image frame {d['frame']}: pixels corrupt")
    frames = [d["frame"] for d in images]
    check(frames == list(range(frames[0], frames[0] + len(frames))) if frames else True,
          "image frames are not consecutive")
    # Netdev events of the veth pair (when the guest could create one).
    if timeline.get("netdev") == "veth":
        nd = [x[4]["data"] for x in kev["ring"] if x[2] == "netdev" and x[4]["data"]["ifname"] == "gt0"]
        actions = [d["event"] for d in nd]
        check("register" in actions and "up" in actions and "unregister" in actions,
              f"netdev: gt0 events {actions}")
        check(any(d["mtu"] == 1400 for d in nd), "netdev: no event with gt0's new mtu 1400")
        summary.append(f"netdev: gt0 {actions}")
    # /proc/kingest/sensors scrapes: every line shown is counted as proc emitted by the module.
    # Raw lines ("proc.lines") are parsed here; a typed event ("proc.kingest.sensors") is read as is.
    readings = []
    for e in events:
        if e["channel"] != "proc" or e["source"] != "/proc/kingest/sensors":
            continue
        if "lines" in e["data"]:
            for ln in e["data"]["lines"]:
                f = ln.split()
                if check(len(f) == 5 and f[4] in ("0", "1"), f"proc sensors line {ln!r}"):
                    readings.append((int(f[0]), int(f[1]), int(f[2]), int(f[3]), f[4] == "1"))
        else:
            readings += [(r["sensor_id"], r["milli_celsius"], r["threshold_mc"], r["ts_ns"], r["alarm"])
                         for r in e["data"]["sensors"]]
    for sid, mc, thr, ts, alarm in readings:
        check(0 <= sid < 4 and alarm == (ts != 0 and mc > thr), f"proc sensor reading {(sid, mc, thr, ts, alarm)}")
    lines = readings
    scrapes = sum(1 for e in events if e["channel"] == "proc")
    summary.append(f"proc    delivered {len(lines):6d} sensor lines in {scrapes} scrapes; module emitted "
                   f"{k1['proc']['emitted']}")
    summary.append(f"sensors: {len(ring)} readings, {len(images)} images; ring == genl == udp == signal")
    return every


def check_commands(ring, timeline):
    """Issue 5: set_threshold and set_rate through signed commands, seen in the sensor events.
    The debug mode (scenario.sh SCENARIO_MODE=debug) sends set_rate only."""
    after = []
    if timeline.get("mode", "full") == "debug":
        check("threshold-send" not in timeline, "mode=debug, yet set_threshold was sent")
    else:
        t_send, t_applied = timeline["threshold-send"], timeline["threshold-applied"]
        s1 = [x[4]["data"] for x in ring if x[4]["data"]["sensor_id"] == 1]
        before = [d for x, d in zip([x for x in ring if x[4]["data"]["sensor_id"] == 1], s1) if x[1] < t_send]
        after = [d for x, d in zip([x for x in ring if x[4]["data"]["sensor_id"] == 1], s1) if x[1] > t_applied]
        check(before and all(d["threshold_mc"] != -50000 for d in before), "threshold: already -50000 before the command")
        check(after and all(d["threshold_mc"] == -50000 and d["alarm"] for d in after),
              f"threshold: sensor 1 after set_threshold {[(d['threshold_mc'], d['alarm']) for d in after[:5]]}")
    s0 = [x[1] for x in ring if x[4]["data"]["sensor_id"] == 0]

    def median_gap(lo, hi):
        ts = [t for t in s0 if lo < t < hi]
        gaps = [b - a for a, b in zip(ts, ts[1:])]
        return statistics.median(gaps) / 1e6 if gaps else None

    g20 = median_gap(timeline["sensors-start"] + 500_000_000, timeline["rate-send"])
    g4 = median_gap(timeline["rate-applied"] + 500_000_000, timeline["sensors-end"])
    ok = g20 is not None and g4 is not None and g4 > 2.5 * g20
    hz, cmd_hz = timeline.get("rates", "20,4").split(",")  # scenario.sh: 10,2 in the debug mode
    check(ok, f"set_rate hz={cmd_hz}: median sensor-0 interval {g20} ms at {hz} Hz, {g4} ms after")
    sent = "set_rate only (mode=debug)" if timeline.get("mode") == "debug" else \
        f"set_threshold -> {len(after)} sensor-1 alarms at -50000 mC"
    summary.append(f"commands: {sent}; set_rate {hz}->{cmd_hz} Hz: median interval {g20} ms -> {g4} ms")


def check_sigkill(events_b, k2, timeline, dstats):
    ring = [e for e in events_b if e["channel"] == "ring"]
    seqs = collections.Counter(e["data"]["kseq"] for e in ring)
    last = k2["ring"]["emitted"] + k2["ring"]["dropped"]
    check(k2["ring"]["dropped"] == 0, f"ring: the module dropped {k2['ring']['dropped']} (ring full)")
    missing = [s for s in range(1, last + 1) if s not in seqs]
    # Records the decoder does not know (the hostile phase's) were counted by guest-a, never published.
    t = transport(dstats, "ring")
    allowed = t.get("unknown_type", 0) + t.get("bad_payload", 0)
    check(len(missing) == allowed, f"SIGKILL: {len(missing)} ring records missing (allowed {allowed}): {missing[:20]}")
    dups = sum(n - 1 for n in seqs.values())
    kills = sum(1 for k in timeline if k.startswith("killed-"))
    wanted = int(timeline.get("kills", 20))
    check(kills == wanted and kills >= 1, f"SIGKILL: {kills} kills, the scenario asked for {wanted}")
    by_host = collections.Counter(e["host"] for e in ring)
    after = {h: n for h, n in by_host.items() if h != "guest-a"}
    check(by_host.get("guest-b", 0) > 0, "SIGKILL: the last daemon (guest-b) delivered no ring events")
    killed_with_events = sum(1 for h in after if h.startswith("guest-k"))
    # The bursts: inject payloads "<u16 index>K<kill>-<burst>-<index>", one tag per burst.
    bursts = collections.Counter()
    for e in ring:
        if e["type"] == "inject" and e["host"] != "guest-a":
            p = bytes(e["data"]["payload"])[2:].decode("ascii", "replace")
            if p.startswith("K"):
                bursts[p.rsplit("-", 1)[0]] += 1
    phase = [s for e in ring if e["host"] != "guest-a" for s in [e["data"]["kseq"]]]
    first = min(phase) if phase else 0
    summary.append(f"SIGKILL stress: {kills} kills at random moments under ring bursts "
                   f"({len(bursts)} bursts seen, {min(bursts.values(), default=0)}..{max(bursts.values(), default=0)} records, "
                   f"records of 256 events, chunks of 4 KiB); ring kseq 1..{last} ({last - first + 1} in the kill phase): "
                   f"{len(missing)} missing ({allowed} unknown type, counted), {dups} duplicates (at-least-once); "
                   f"{killed_with_events} of {kills} killed daemons delivered ring events, guest-b {by_host.get('guest-b', 0)}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--dump-a", required=True)
    ap.add_argument("--dump-b", required=True)
    a = ap.parse_args()
    r = a.results
    timeline = read_timeline(os.path.join(r, "timeline.txt"))
    k0 = read_kstats(os.path.join(r, "stats-0.txt"))
    k1 = read_kstats(os.path.join(r, "stats-1.txt"))
    k2 = read_kstats(os.path.join(r, "stats-2.txt"))
    dstats = json.load(open(os.path.join(r, "daemon-stats-a.json")))
    hostile = json.load(open(os.path.join(r, "hostile.json")))
    inject = []
    for line in open(os.path.join(r, "inject.txt")):
        i, accepted, hx = line.split()
        inject.append((int(i), int(accepted), bytes.fromhex(hx)))

    events_a = read_dump(a.dump_a)
    check({e["host"] for e in events_a} == {"guest-a"}, "dump A holds other hosts")
    per_source = daemon_seq_contiguous(events_a, "dump A")
    kev, udp_foreign = kernel_events(events_a, hostile["udp"]["src_port"])
    check_counts(kev, k0, k1, dstats)
    check_markers(kev, inject)
    check_hostile(kev, udp_foreign, hostile, dstats)
    ring = check_sensors(kev, events_a, timeline, k0, k1)
    check_commands(ring, timeline)

    events_b = read_dump(a.dump_b)
    # Every daemon after guest-a (the killed ones too: a kill only cuts the tail).
    daemon_seq_contiguous([e for e in events_b if e["host"] != "guest-a"], "dump B (kill phase)")
    check_sigkill(events_b, k2, timeline, dstats)

    summary.append(f"records: dump A {len(events_a)} events in {len(per_source)} (host, channel, source); "
                   f"dump B {len(events_b)} events")
    summary.append("RESULT: " + ("PASS" if not failures else f"FAIL ({len(failures)} checks)"))
    with open(os.path.join(r, "summary.txt"), "a") as f:
        f.write("\n".join(summary) + "\n")
        for x in failures:
            f.write("FAIL: " + x + "\n")
    json.dump({"failures": failures, "summary": summary}, open(os.path.join(r, "check.json"), "w"), indent=1)
    print("\n".join(summary))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
