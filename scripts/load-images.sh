#!/usr/bin/env bash
# Loads images built by scripts/build-images.sh into the local cluster's containerd.
#   scripts/load-images.sh IMAGE_REF...
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/versions.sh"
tarballs=()
for ref in "$@"; do
  f=$(image_tarball "$ref")
  [ -f "$f" ] || { echo "no tarball for $ref (expected $f): run scripts/build-images.sh" >&2; exit 1; }
  tarballs+=("$f")
done
exec "$here/cluster.sh" load-image "${tarballs[@]}"
