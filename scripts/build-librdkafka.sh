#!/usr/bin/env bash
# Builds librdkafka 2.15.1 from the source shipped inside the npm package
# @confluentinc/kafka-javascript@1.10.1 (NuGet's librdkafka.redist is not reachable here) and
# installs it under .deps/librdkafka. Skips everything when that version is already installed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prefix="$root/.deps/librdkafka"
want=2.15.1
stamp="$prefix/.version"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "$prefix/lib/librdkafka.so.1" ]; then
  echo "librdkafka $want: cached at $prefix"
  exit 0
fi
work="$root/.deps/build"
rm -rf "$work" && mkdir -p "$work"
cd "$work"
echo "librdkafka $want: fetching source (npm pack @confluentinc/kafka-javascript@1.10.1)"
npm pack --silent @confluentinc/kafka-javascript@1.10.1 >/dev/null
tar xzf confluentinc-kafka-javascript-1.10.1.tgz
src="$work/package/deps/librdkafka"
grep -q 'RD_KAFKA_VERSION  *0x020f01ff' "$src/src/rdkafka.h" || { echo "unexpected librdkafka version in tarball" >&2; exit 1; }
cd "$src"
echo "librdkafka $want: configuring and building (about 35 s on 2 cores)"
./configure --prefix="$prefix" >"$work/configure.log" 2>&1 || { tail -30 "$work/configure.log"; exit 1; }
make -j"$(nproc)" -C src >"$work/make.log" 2>&1 || { tail -30 "$work/make.log"; exit 1; }
make -C src install >"$work/install.log" 2>&1 || { tail -30 "$work/install.log"; exit 1; }
echo "$want" > "$stamp"
rm -rf "$work"
echo "librdkafka $want: installed at $prefix"
