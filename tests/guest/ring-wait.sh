#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The ring wait measured in the QEMU guest, not part of `make test`:
#   tests/guest/ring-wait.sh [label] [daemon binary] [kingest.ko]
# Defaults: this checkout's daemon (out/ingest/ingest, `make build`) and
# module for KVER (default the 6.1 line). Pass another daemon and module
# (e.g. ABI 1's) to compare. Results: .vm/out/ring-wait/<label>/.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
label=${1:-abi2}
ingest=${2:-$root/out/ingest/ingest}
KVER=${KVER:-$(bash "$root/kmodule/scripts/kernels.sh" resolve 6.1)}
export KVER
ko=${3:-$root/.vm/out/$KVER/kingest.ko}
tools=$root/.vm/guest-tools
mkdir -p "$tools"
gcc -O2 -Wall -Wextra -Werror -I"$root/kmodule/include/uapi" -o "$tools/ringlat" \
	"$root/tests/guest/ringlat.c" -lpthread
results=$root/.vm/out/ring-wait/$label
mkdir -p "$results"
KINGEST_KO=$ko VM_TIMEOUT=${VM_TIMEOUT:-400} \
	KINGEST_GUEST_ENV_INGEST=$ingest KINGEST_GUEST_ENV_RINGLAT=$tools/ringlat \
	KINGEST_GUEST_ENV_LABEL=$label \
	bash "$root/kmodule/vm/run-guest.sh" "$root/tests/guest/ring-wait-guest.sh" "$results"
