#!/usr/bin/env bash
# Runs the ring, ABI and /proc/kingest tests that need the real module, in the QEMU guest of
# kmodule/vm/run-guest.sh (kingest.ko loaded, root):
#   dotnet build tests/Ingest.Transports.Tests && \
#     kmodule/vm/run-guest.sh tests/Ingest.Transports.Tests/Ring/run-in-guest.sh
# Results (script.log with the xunit output) land in .vm/out/guest.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=$here/../bin/Debug/net10.0
[ -f "$bin/Ingest.Transports.Tests.dll" ] || { echo "build tests/Ingest.Transports.Tests first"; exit 1; }
test -c /dev/kingest || { echo "/dev/kingest missing: module not loaded"; exit 1; }
export DOTNET_CLI_HOME=/tmp DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
cd /tmp
dotnet "$bin/Ingest.Transports.Tests.dll" \
	-class Ingest.Transports.Tests.Ring.KingestDeviceRingTests \
	-class Ingest.Transports.Tests.Ring.RingSourceTests \
	-class Ingest.Transports.Tests.Kingest.KingestProcParserTests \
	-class Ingest.Transports.Tests.Kingest.KingestDatagramParserTests \
	-noColor
