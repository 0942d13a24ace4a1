#!/usr/bin/python3
"""Prints every skipped test with its reason, from the TRX files `make test-dotnet` writes:
dotnet test's console output names skipped tests but not why."""
import glob
import sys
import xml.etree.ElementTree as ET

NS = "{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}"
for path in sorted(glob.glob(sys.argv[1] if len(sys.argv) > 1 else "out/test-results/*.trx")):
    for result in ET.parse(path).getroot().iter(NS + "UnitTestResult"):
        if result.get("outcome") != "NotExecuted":
            continue
        reason = "".join(m.text or "" for m in result.iter(NS + "Message")).strip() or "(no reason given)"
        print(f"skipped: {result.get('testName')}: {reason}")
