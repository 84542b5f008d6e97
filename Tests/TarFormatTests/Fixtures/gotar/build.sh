#!/usr/bin/env bash
# build.sh OUT  -- build the gotar binary to OUT (stdlib only, offline).
# Uses temporary GOCACHE/GOPATH unless the caller already set them.
set -euo pipefail
out=${1:?usage: build.sh OUT}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$(dirname "$out")"
case $out in /*) ;; *) out=$PWD/$out ;; esac
cd "$here"
GOCACHE=${GOCACHE:-$tmp/cache} GOPATH=${GOPATH:-$tmp/gopath} GOFLAGS=-mod=mod \
  GOPROXY=off GO111MODULE=on CGO_ENABLED=0 go build -trimpath -buildvcs=false -o "$out" .
