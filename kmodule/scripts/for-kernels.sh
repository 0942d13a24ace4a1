#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Runs one command per kernel of KVERS (default "6.1 6.12", see kernels.sh),
# installing what is missing first, with KVER set to the exact version and
# KINGEST_KO to that kernel's build (.vm/out/<KVER>/kingest.ko). Prints each
# kernel's wall time and verdict; fails if any run failed (all still run).
#   for-kernels.sh <label> <command...>
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
label=${1:?usage: for-kernels.sh <label> <command...>}
shift
mapfile -t kvers < <(bash "$here/kernels.sh" ensure) || exit 1
[ ${#kvers[@]} -gt 0 ] || exit 1
summary=()
failed=0
for k in "${kvers[@]}"; do
	echo "=== $label on $k"
	start=$(date +%s)
	KVER=$k KINGEST_KO=$root/.vm/out/$k/kingest.ko "$@"
	rc=$?
	wall=$(($(date +%s) - start))
	[ $rc = 0 ] || failed=1
	summary+=("$(printf '%-8s %-26s %s  %4d s' "$label" "$k" "$([ $rc = 0 ] && echo PASS || echo "FAIL($rc)")" "$wall")")
done
echo "=== $label per kernel"
printf '%s\n' "${summary[@]}" | tee -a "$root/.vm/out/kernels-summary.txt"
exit $failed
