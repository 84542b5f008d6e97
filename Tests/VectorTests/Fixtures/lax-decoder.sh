#!/bin/sh
# A deliberately lax "decoder" for the tests of `ckpt-vectors run`: it unpacks any archive with plain tar and
# checks nothing (no digests, no structure, no section rules), as a careless implementation of v2 would.
# The runner must report the invalid vectors it accepts. Usage: lax-decoder.sh ARCHIVE DIR
set -e
mkdir -p "$2" && tar -xf "$1" -C "$2"
