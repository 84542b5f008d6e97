#!/usr/bin/env bash
# tools-list.sh ARCHIVE
# Prints the member names as GNU tar and bsdtar list them, one per line:
#   gnutar:<name>   (all GNU tar lines first, in archive order)
#   bsdtar:<name>
# Names are printed literally (no quoting/escaping; UTF-8 locale). The only
# normalisation is that one trailing "/" is removed (directories).
# Compressed archives are accepted (both tools detect compression on read).
# Exit status is non-zero if either tool fails.
set -euo pipefail
if [[ $# -ne 1 ]]; then
  echo "usage: $0 ARCHIVE" >&2
  exit 2
fi
export LC_ALL=C.UTF-8
tar --quoting-style=literal --warning=no-unknown-keyword -tf "$1" | sed -e 's#/$##' -e 's/^/gnutar:/'
bsdtar -tf "$1" | sed -e 's#/$##' -e 's/^/bsdtar:/'
