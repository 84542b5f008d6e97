#!/usr/bin/env bash
# Installs the system packages the build and the tests need (Debian; run as root). Idempotent and quiet
# when everything is present already.
set -euo pipefail
packages=(
  zlib1g-dev libzstd-dev libxml2-dev pkg-config   # build: system zlib and libzstd, FoundationXML
  zstd gzip pigz libarchive-tools golang-go python3  # the reference tools the tests compare against
  bzip2 xz-utils lz4                                # readers of the bzip2, xz and lz4 vectors
  xfsprogs criu                                     # reflink tests on a loop-mounted XFS; CRIU's crit
  time                                              # GNU time: peak memory of child processes in tests
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q "${missing[@]}" >/dev/null
fi
