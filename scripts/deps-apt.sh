#!/usr/bin/env bash
# Installs the Debian packages Ingest needs. Idempotent: it asks apt only for what is missing,
# so a second run costs a dpkg query.
#   deps-apt.sh run    what `make build`/`make run` need: a C toolchain for the static upcall
#                      helper, and clang, lld and zlib for the NativeAOT link of `ingest`
#                      (the ILCompiler itself and librdkafka come from NuGet)
#   deps-apt.sh test   that plus the test tools: kcat, python3-msgpack, python3-cryptography, iproute2, and the
#                      Debian kernel, headers, QEMU and busybox for the kernel-module guest tests
#   deps-apt.sh kernel <ver>...   the image and headers of these exact Debian kernels (the module's
#                      build and guest matrix: kmodule/scripts/kernels.sh finds the versions)
set -euo pipefail
group=${1:-test}
run_pkgs=(
  # the upcall helper (static C: src/Ingest.Transports/Upcall/helper)
  build-essential
  # NativeAOT: ILCompiler's objects linked by clang with lld; the runtime links the system zlib
  clang lld zlib1g-dev
)
test_pkgs=(
  # independent Kafka and MessagePack clients for black-box tests
  kcat python3-msgpack python3-cryptography
  # deployment-file validation (scripts/validate-deploy.sh)
  python3-yaml python3-jsonschema systemd
  # network namespaces, veth, setpriv
  iproute2 util-linux
  # kernel module build and the QEMU guest
  qemu-system-x86 linux-image-amd64 linux-headers-amd64 busybox-static cpio xz-utils kmod sparse
)
case "$group" in
  run) pkgs=("${run_pkgs[@]}") ;;
  test) pkgs=("${run_pkgs[@]}" "${test_pkgs[@]}") ;;
  kernel)
    shift
    pkgs=()
    for v in "$@"; do pkgs+=("linux-image-$v" "linux-headers-$v"); done
    [ ${#pkgs[@]} -gt 0 ] || { echo "usage: $0 kernel <version>..." >&2; exit 2; }
    ;;
  *) echo "usage: $0 run|test|kernel <version>..." >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps-apt ($group): all ${#pkgs[@]} packages present"
  exit 0
fi
echo "deps-apt ($group): installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
