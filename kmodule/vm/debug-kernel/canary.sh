#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs in the debug guest (guest.sh, booted without kingest): loads the
# canary once per bug. Exits 0 when every load went as planned, so that the
# only thing failing the run is the kernel's own reports, which test.sh then
# checks one by one. Env: CANARY_KO (KINGEST_GUEST_ENV_CANARY_KO on the host).
set -u
ko=${CANARY_KO:?set KINGEST_GUEST_ENV_CANARY_KO}
res=${KINGEST_RESULTS:?}
rc=0
step() {
	echo "canary: mode=$1"
	insmod "$ko" mode="$1" || { echo "canary: insmod mode=$1 failed"; rc=1; return; }
	[ "${2:-}" = keep ] || rmmod kingest_canary || { echo "canary: rmmod after $1 failed"; rc=1; }
}
# Lockdep first: it switches itself off after its first report and after any
# KASAN report. The leak last, left loaded: kmemleak's report then names
# canary_leak in its backtrace.
step lockorder
step sleep
step ubsan
step oob
step uaf
step leak keep
exit $rc
