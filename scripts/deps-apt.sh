#!/usr/bin/env bash
# Installs the Debian packages Ingest needs to build and test. Idempotent: it asks apt only for
# what is missing, so a second run costs a dpkg query.
set -euo pipefail
pkgs=(
  # librdkafka source build
  build-essential pkg-config libssl-dev zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev libcurl4-openssl-dev
  # independent Kafka and MessagePack clients for black-box tests
  kcat python3-msgpack
  # deployment-file validation (scripts/validate-deploy.sh)
  python3-yaml python3-jsonschema systemd
  # network namespaces, veth
  iproute2 util-linux
  # kernel module build and the QEMU guest
  qemu-system-x86 linux-image-amd64 linux-headers-amd64 busybox-static cpio xz-utils kmod sparse
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps-apt: all ${#pkgs[@]} packages present"
  exit 0
fi
echo "deps-apt: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
