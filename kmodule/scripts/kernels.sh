#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The Debian 12 kernels kingest is built and tested against, found in apt
# at run time (never hard-coded, never `uname -r`, never "the newest
# /lib/modules/*/build": the host runs another kernel).
#
#   kernels.sh resolve [KVER...]   print exact versions, one a line
#   kernels.sh ensure  [KVER...]   also install the image and headers of
#                                  each (scripts/deps-apt.sh), then print
#
# A KVER is a line or an exact version:
#   6.1      linux-image-amd64's current kernel (e.g. 6.1.0-57-amd64)
#   6.12     the newest linux-image-6.12.<n>+deb12-amd64 apt offers
#   <exact>  as is, e.g. 6.12.117+deb12-amd64
# No KVER: $KVERS, else "6.1 6.12".
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mode=${1:?usage: kernels.sh resolve|ensure [KVER...]}
shift
# shellcheck disable=SC2206
want=(${@:-${KVERS:-6.1 6.12}})

lists_ready=0
apt_lists() {
	# A fresh container has no package lists yet.
	if [ $lists_ready = 0 ] && [ -z "$(apt-cache search --names-only '^linux-headers-amd64$' 2>/dev/null)" ]; then
		apt-get update -qq >&2
	fi
	lists_ready=1
}

resolve() {
	local k=$1 v
	case $k in
	6.1)
		apt_lists
		# The metapackage's dependency is the line's current ABI.
		v=$(apt-cache depends linux-headers-amd64 2>/dev/null |
			sed -n 's/^ *Depends: linux-headers-\(6\.1\.[0-9.-]*-amd64\)$/\1/p' | sort -V | tail -n1)
		;;
	6.12)
		apt_lists
		# The newest with both its image and its headers: the mirror publishes them apart,
		# and for a while one can be there without the other (6.12.118: headers, no image).
		v=$(comm -12 \
			<(apt-cache search --names-only '^linux-headers-6\.12\.[0-9]+\+deb12-amd64$' 2>/dev/null |
				awk '{print $1}' | sed 's/^linux-headers-//' | sort) \
			<(apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64$' 2>/dev/null |
				awk '{print $1}' | sed 's/^linux-image-//' | sort) | sort -V | tail -n1)
		;;
	*) v=$k ;;
	esac
	[ -n "$v" ] || { echo "kernels.sh: no Debian kernel found in apt for '$k'" >&2; return 1; }
	echo "$v"
}

out=()
for k in "${want[@]}"; do
	out+=("$(resolve "$k")")
done
if [ "$mode" = ensure ]; then
	bash "$root/scripts/deps-apt.sh" kernel "${out[@]}" >&2
fi
printf '%s\n' "${out[@]}"
