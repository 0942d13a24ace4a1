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
        # Assert.Skip always carries a reason; without one it is an explicit test (a micro
        # benchmark kept beside its code), which runs only when asked for.
        reason = "".join(m.text or "" for m in result.iter(NS + "Message")).strip() or \
            "explicit test (a micro benchmark): run it with the test assembly's -explicit only"
        print(f"skipped: {result.get('testName')}: {reason}")
