#!/usr/bin/env bash
# Builds the test provider (providers/ktftest, registry.ktf.dev/ktf/ktftest) for linux_amd64
# and lays it out as a provider mirror, since the engines cannot reach a registry:
#   MIRROR/registry.ktf.dev/ktf/ktftest/terraform-provider-ktftest_V_linux_amd64.zip  (filesystem_mirror, packed)
#   MIRROR/registry.ktf.dev/ktf/ktftest/index.json, V.json with the h1:/zh: hashes    (network_mirror)
# MIRROR is $KTF_CACHE/providers/ktftest-V-<hash of the sources>, so an edit rebuilds it
# and a warm run returns at once. Prints MIRROR on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/versions.sh"

ADDRESS=registry.ktf.dev/ktf/ktftest
PLATFORM=linux_amd64
log() { printf '[build-provider] %s\n' "$*" >&2; }

root=$(cd "$here/.." && pwd)
# The packer and this script count too: they decide the build flags, the zip and the hashes.
sources_hash() {
  (cd "$root" && { find providers/ktftest providers/mirror -type f \( -name '*.go' -o -name 'go.*' \)
    echo scripts/build-provider.sh; } | LC_ALL=C sort | xargs sha256sum) |
    sha256sum | cut -c1-16
}

mirror=$KTF_CACHE/providers/ktftest-$KTFTEST_PROVIDER_VERSION-$(sources_hash)
if [ ! -f "$mirror/$ADDRESS/$KTFTEST_PROVIDER_VERSION.json" ]; then
  log "building the ktftest provider $KTFTEST_PROVIDER_VERSION into $mirror"
  rm -rf "$mirror.tmp" && mkdir -p "$mirror.tmp"
  binary=$mirror.tmp/terraform-provider-ktftest
  (cd "$root/providers/ktftest" && GOOS=linux GOARCH=amd64 \
    go build -trimpath -buildvcs=false -ldflags "-s -w -X main.version=$KTFTEST_PROVIDER_VERSION" -o "$binary" .)
  (cd "$root/providers/mirror" && go run . -dir "$mirror.tmp" -address "$ADDRESS" \
    -version "$KTFTEST_PROVIDER_VERSION" -platform "$PLATFORM" "$binary") | while read -r h; do log "  $h"; done
  rm "$binary"
  rm -rf "$mirror" && mv "$mirror.tmp" "$mirror"
fi
echo "$mirror"
