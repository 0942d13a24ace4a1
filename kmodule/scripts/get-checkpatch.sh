#!/usr/bin/env bash
# Extracts checkpatch.pl (and the data files it reads) from Debian's
# linux-source package into <dest>, once. linux-source is ~140 MB, so it is
# downloaded with `apt-get download` into a scratch directory, never
# installed, and only three files are kept.
# Usage: get-checkpatch.sh <kernel version, e.g. 6.1.0-56-amd64> <dest dir>
set -euo pipefail
kver=$1
dest=$2
if [ -f "$dest/scripts/checkpatch.pl" ]; then
	exit 0
fi
series=$(echo "$kver" | cut -d. -f1,2)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
chmod 755 "$scratch"	# apt's _apt user writes there
echo "get-checkpatch: downloading linux-source-$series"
(cd "$scratch" && timeout 600 apt-get download -q "linux-source-$series" >/dev/null 2>&1) ||
	{ apt-get update -qq && (cd "$scratch" && timeout 600 apt-get download -q "linux-source-$series"); }
mkdir -p "$scratch/src"
dpkg-deb --fsys-tarfile "$scratch"/linux-source-*.deb |
	tar -xO --wildcards './usr/src/linux-source-*.tar.xz' |
	xz -dc |
	tar -x -C "$scratch/src" --wildcards --no-wildcards-match-slash \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch'
mkdir -p "$dest/scripts"
cp "$scratch"/src/*/scripts/{checkpatch.pl,spelling.txt,const_structs.checkpatch} "$dest/scripts/"
chmod +x "$dest/scripts/checkpatch.pl"
echo "get-checkpatch: installed $dest/scripts/checkpatch.pl"
