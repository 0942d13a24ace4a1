#!/usr/bin/python3
"""Independent decoder for end-to-end tests: reads kcat's `-f '%R%s'` framing (4-byte big-endian
length, then the value) from stdin, decodes every record with python3-msgpack and prints one
JSON object per event: channel, source, host, seq, ts, type and, for datagrams, the payload as
text and src."""
import json
import struct
import sys

import msgpack

data = sys.stdin.buffer.read()
pos = 0
while pos < len(data):
    (length,) = struct.unpack(">i", data[pos:pos + 4])
    pos += 4
    value = data[pos:pos + length]
    pos += length
    record = msgpack.unpackb(value, raw=False)
    assert record["v"] == 1, record.get("v")
    for event in record["events"]:
        out = {
            "host": record["host"],
            "channel": record["channel"],
            "source": record.get("source"),
            "seq": event["seq"],
            "ts": event["ts"],
            "type": event["type"],
        }
        if event["type"] == "datagram":
            out["src"] = event["data"]["src"]
            out["payload"] = event["data"]["payload"].decode("utf-8")
        else:
            out["keys"] = sorted(event["data"].keys())
        print(json.dumps(out))
