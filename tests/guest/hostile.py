#!/usr/bin/python3
"""Hostile input on each transport while the daemon runs; writes what was sent (and from which
UDP ports) to a JSON file for check.py, which then requires each to be counted by the daemon and
the daemon to go on delivering.

usage: hostile.py <kingest-ctl> <runtime dir> <out.json>"""
import ctypes
import json
import os
import socket
import struct
import subprocess
import sys

ctl, rt, out = sys.argv[1:4]
sent = {}

# Kernel-side: records of a type no consumer knows, an empty payload, a maximal payload (upcall
# hex cut at 256 bytes and flagged truncated). Mask without UDP for the big one: UDP is tested
# with user-space datagrams below.
kernel = []
for mask, typ, length in ((0x1F, 0x7F, 64), (0x1F, 4, 0), (0x0F, 4, 16384)):
    accepted = int(subprocess.check_output([ctl, "raw", str(mask), str(typ), str(length)]).strip())
    kernel.append({"mask": mask, "type": typ, "len": length, "accepted": accepted})
sent["kernel"] = kernel

# UDP: oversized (> MaxDatagramBytes 2048), empty and non-kingest datagrams.
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(("127.0.0.1", 0))
udp.sendto(b"\xff" * 4000, ("127.0.0.1", 5555))
udp.sendto(b"", ("127.0.0.1", 5555))
udp.sendto(b"not a kingest record", ("127.0.0.1", 5555))
sent["udp"] = {"src_port": udp.getsockname()[1], "datagrams": 3, "oversize": 1, "empty": 1}
udp.close()

# Upcall socket: wrong magic, a count larger than the strings, trailing garbage after a valid
# frame, invalid UTF-8, and a connection closed without a message.
path = os.path.join(rt, "upcall.sock")


def upcall_send(payload):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    if payload is not None:
        s.send(payload)
    s.close()


def frame(strings, argc, envc, magic=0x31505549):
    return struct.pack("=III", magic, argc, envc) + b"".join(x + b"\0" for x in strings)


bad = [
    frame([b"a", b"K=v"], 1, 1, magic=0xDEADBEEF),
    frame([b"a"], 3, 0),
    frame([b"a"], 1, 0) + b"junk",
    frame([b"\xff\xfe", b"K=v"], 1, 1),
    None,
]
for b in bad:
    upcall_send(b)
sent["upcall"] = {"malformed": 4, "silent": 1}

# Signals: a process-directed RT signal (must not kill the daemon) and a thread-directed one that
# claims a uid outside AllowedUids (counted denied_sender).
with open(os.path.join(rt, "signal.tid")) as f:
    tgid, tid = (int(x) for x in f.read().split())
os.kill(tgid, 40)


class SigInfo(ctypes.Structure):
    _fields_ = [("signo", ctypes.c_int), ("errno", ctypes.c_int), ("code", ctypes.c_int),
                ("pad0", ctypes.c_int), ("pid", ctypes.c_int), ("uid", ctypes.c_uint),
                ("value", ctypes.c_long), ("rest", ctypes.c_byte * 96)]


libc = ctypes.CDLL(None, use_errno=True)
info = SigInfo(signo=40, code=-1, pid=os.getpid(), uid=4242, value=0x5A5A)
SYS_rt_tgsigqueueinfo = 297
if libc.syscall(SYS_rt_tgsigqueueinfo, tgid, tid, 40, ctypes.byref(info)) != 0:
    sys.exit(f"rt_tgsigqueueinfo: errno {ctypes.get_errno()}")
# ABI 1's module signal forged exactly (SI_QUEUE, si_pid 0, si_uid 0: an allowed uid): denied too.
forged = SigInfo(signo=40, code=-1, pid=0, uid=0, value=0x01050000)
if libc.syscall(SYS_rt_tgsigqueueinfo, tgid, tid, 40, ctypes.byref(forged)) != 0:
    sys.exit(f"rt_tgsigqueueinfo (forged): errno {ctypes.get_errno()}")
sent["signal"] = {"process_directed": 1, "denied_uid": 1, "forged_module": 1}

with open(out, "w") as f:
    json.dump(sent, f, indent=1)
