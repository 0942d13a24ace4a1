#!/usr/bin/python3
"""An independent command sender (python3-msgpack + python3-cryptography, kcat for Kafka; no .NET,
whose start-up costs tens of seconds under TCG): signs one ioctl command as docs/commands.md
specifies, produces it to kernel.commands keyed by the host, and waits for its result on
kernel.command-results: an envelope whose signature must verify with the host's public key
(anything else is reported and waited past). Prints the result map; exits 0 only on a verified
"applied".

usage: sendcmd.py <bootstrap> <host> <private key> <host public key> <ioctl name> [arg=int ...]"""
import hashlib
import os
import struct
import subprocess
import sys
import tempfile
import time

import msgpack
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

bootstrap, host, keyfile, hostpub, name = sys.argv[1:6]
args = {"name": name}
for a in sys.argv[6:]:
    k, v = a.split("=", 1)
    args[k] = int(v)

priv = serialization.load_pem_private_key(open(keyfile, "rb").read(), password=None)
host_key = serialization.load_pem_public_key(open(hostpub, "rb").read())
host_kid = hashlib.sha256(host_key.public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)).digest()[:8].hex()


def verified(value):
    """The result body if value is an envelope signed by the host's key, else None."""
    try:
        env = msgpack.unpackb(value, raw=False)
        if not isinstance(env, dict) or set(env) != {"v", "kid", "body", "sig"} or env["kid"] != host_kid \
                or len(env["sig"]) != 64:
            return None
        sig = utils.encode_dss_signature(int.from_bytes(env["sig"][:32], "big"), int.from_bytes(env["sig"][32:], "big"))
        host_key.verify(sig, env["body"], ec.ECDSA(hashes.SHA256()))
        body = msgpack.unpackb(env["body"], raw=False)
        return body if isinstance(body, dict) and body.get("host") == host else None
    except Exception:  # malformed or forged: not a result of this host
        return None


spki = priv.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
kid = hashlib.sha256(spki).digest()[:8].hex()
cid = "py-" + os.urandom(8).hex()
# GUEST_TIME_SCALE: the scenario's wait multiplier (a debug kernel under TCG is slow).
scale = int(os.environ.get("GUEST_TIME_SCALE", "1"))
now = int(time.time() * 1000)
body = msgpack.packb({"v": 1, "id": cid, "host": host, "issued_at": now, "expires_at": now + 60_000 * scale,
                      "op": "ioctl", "args": args})
r, s = utils.decode_dss_signature(priv.sign(body, ec.ECDSA(hashes.SHA256())))
envelope = msgpack.packb({"v": 1, "kid": kid, "body": body, "sig": r.to_bytes(32, "big") + s.to_bytes(32, "big")})

with tempfile.NamedTemporaryFile(suffix=".cmd") as f:
    f.write(envelope)
    f.flush()
    subprocess.run(["kcat", "-b", bootstrap, "-P", "-t", "kernel.commands", "-k", host, f.name],
                   check=True, timeout=60 * scale)

deadline = time.monotonic() + 90 * scale
while time.monotonic() < deadline:
    # fetch.wait.max.ms: an empty fetch answered at once, so each poll ends sooner (scenario.sh's dump).
    out = subprocess.run(["kcat", "-b", bootstrap, "-C", "-t", "kernel.command-results", "-o", "beginning",
                          "-e", "-q", "-X", "fetch.wait.max.ms=10", "-f", "%R%s"],
                         capture_output=True, timeout=60 * scale).stdout
    pos = 0
    while pos + 4 <= len(out):
        (n,) = struct.unpack(">i", out[pos:pos + 4])
        result = verified(out[pos + 4:pos + 4 + n])
        pos += 4 + n
        if result is None:
            print("unverifiable result ignored", file=sys.stderr)
            continue
        if result.get("id") == cid:
            print({k: result[k] for k in ("status", "error", "op", "after", "errno")})
            sys.exit(0 if result["status"] == "applied" else 1)
    time.sleep(0.5)
print(f"no result for {cid} within 90 s")
sys.exit(3)
