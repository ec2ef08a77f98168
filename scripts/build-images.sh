#!/usr/bin/env bash
# Builds the images the local cluster runs, with buildah (no registry is reachable):
#   pause  localhost/ktf/pause:3.10             the pod sandbox (a static C program)
#   base   localhost/ktf/base:bookworm-node20   debootstrap'd Debian + the host's Node.js
#   ktf    localhost/ktf/ktf:<content hash>     the operator and run image (./Containerfile),
#                                               on $KTF_BASE_IMAGE when set
# Each is saved as a docker-archive tarball in $KTF_CACHE/images and rebuilt only when its
# inputs change. `ktf` prints the image reference as its last line.
#   scripts/build-images.sh [pause|base|ktf]...    (default: all three)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
source "$here/versions.sh"

IMAGES=$KTF_CACHE/images
BUILDAH_ROOT=$KTF_CACHE/buildah
PAUSE_REF=localhost/ktf/pause:3.10
BASE_REF=localhost/ktf/base:bookworm-node20
export STORAGE_DRIVER=${STORAGE_DRIVER:-vfs} BUILDAH_ISOLATION=chroot
mkdir -p "$IMAGES"

log() { printf '[build-images] %s\n' "$*" >&2; }
bah() { buildah --root "$BUILDAH_ROOT/root" --runroot "$BUILDAH_ROOT/run" --storage-driver "$STORAGE_DRIVER" "$@"; }

# build REF CONTEXT CONTAINERFILE [buildah args...]: build and save as a tarball.
build() {
  local ref=$1 context=$2 file=$3; shift 3
  bah bud --quiet --isolation chroot --layers=false -f "$file" -t "$ref" "$@" "$context" >/dev/null
  local out; out=$(image_tarball "$ref")
  rm -f "$out.tmp"
  bah push --quiet "$ref" "docker-archive:$out.tmp:$ref" >/dev/null
  mv "$out.tmp" "$out"
  # Only the tarball is kept: buildah's copy would otherwise grow with every build.
  bah rmi -f "$ref" >/dev/null 2>&1 || true
}

build_pause() {
  local out; out=$(image_tarball "$PAUSE_REF")
  [ -f "$out" ] && return
  log "building $PAUSE_REF"
  local ctx; ctx=$(mktemp -d)
  gcc -static -Os -s -o "$ctx/pause" "$root/images/pause/pause.c"
  build "$PAUSE_REF" "$ctx" "$root/images/pause/Containerfile"
  rm -rf "$ctx"
}

# The base's inputs: the Debian suite and the host's node binary.
base_stamp() { echo "bookworm-minbase $(sha256sum /usr/bin/node | cut -c1-16)"; }

build_base() {
  local out; out=$(image_tarball "$BASE_REF")
  if [ -f "$out" ] && [ "$(cat "$out.stamp" 2>/dev/null)" = "$(base_stamp)" ]; then return; fi
  log "building $BASE_REF (debootstrap: a few minutes the first time)"
  local ctx; ctx=$(mktemp -d)
  local rootfs=$ctx/rootfs
  debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" http://deb.debian.org/debian >"$ctx/debootstrap.log" 2>&1 ||
    { tail -20 "$ctx/debootstrap.log" >&2; exit 1; }
  cp /usr/bin/node "$rootfs/usr/bin/node"
  # Node needs nothing minbase lacks; fail here rather than in a pod if that changes.
  chroot "$rootfs" /usr/bin/node --version >/dev/null
  echo 'ktf:x:65532:65532:ktf:/tmp:/usr/sbin/nologin' >>"$rootfs/etc/passwd"
  echo 'ktf:x:65532:' >>"$rootfs/etc/group"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc "$rootfs"/usr/share/man
  tar -C "$rootfs" -cf "$ctx/rootfs.tar" .
  build "$BASE_REF" "$ctx" "$root/images/base/Containerfile"
  base_stamp >"$out.stamp"
  rm -rf "$ctx"
}

# Production node_modules, cached by the lockfile.
node_modules_dir() {
  local hash; hash=$(cat "$root/package.json" "$root/package-lock.json" | sha256sum | cut -c1-16)
  local dir=$KTF_CACHE/node-modules/$hash
  if [ ! -d "$dir/node_modules" ]; then
    log "installing production node_modules"
    mkdir -p "$dir.tmp"
    cp "$root/package.json" "$root/package-lock.json" "$dir.tmp/"
    (cd "$dir.tmp" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null 2>&1)
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  echo "$dir/node_modules"
}

build_ktf() {
  [ -f "$root/dist/bin/ktf.js" ] || { log "dist/ is missing: run npm run build first"; exit 1; }
  # KTF_BASE_IMAGE picks the base (docker.io/library/node:20-bookworm-slim where a registry
  # is reachable); by default the local one, built here.
  local base=${KTF_BASE_IMAGE:-$BASE_REF}
  [ "$base" = "$BASE_REF" ] && build_base
  "$here/build-binaries.sh" tofu terraform
  local modules; modules=$(node_modules_dir)
  local tag
  tag=$( {
    cat "$root/Containerfile" "$root/images/ktf/ktf" "$root/package-lock.json"
    [ "$base" = "$BASE_REF" ] && cat "$(image_tarball "$BASE_REF").stamp"
    echo "$base $TOFU_VERSION $TERRAFORM_VERSION"
    (cd "$root" && find dist -type f -name '*.js' | sort | xargs sha256sum)
  } | sha256sum | cut -c1-12)
  local ref=localhost/ktf/ktf:$tag
  if [ ! -f "$(image_tarball "$ref")" ]; then
    log "building $ref"
    local ctx; ctx=$(mktemp -d)
    mkdir -p "$ctx/engines" "$ctx/app/bin"
    cp "$KTF_BIN_CACHE/tofu-$TOFU_VERSION/tofu" "$KTF_BIN_CACHE/terraform-$TERRAFORM_VERSION/terraform" "$ctx/engines/"
    cp -r "$modules" "$ctx/app/node_modules"
    cp "$root/package.json" "$ctx/app/"
    cp -r "$root/dist" "$ctx/app/dist"
    cp "$root/images/ktf/ktf" "$ctx/app/bin/ktf"
    # The local base must be in buildah's store to build FROM it.
    if [ "$base" = "$BASE_REF" ] && ! bah images -q "$BASE_REF" >/dev/null 2>&1; then
      bah pull --quiet "docker-archive:$(image_tarball "$BASE_REF")" >/dev/null
    fi
    build "$ref" "$ctx" "$root/Containerfile" --build-arg "BASE_IMAGE=$base"
    rm -rf "$ctx"
    # Older ktf images are of no use any more.
    find "$IMAGES" -name 'localhost_ktf_ktf_*.tar' ! -name "$(basename "$(image_tarball "$ref")")" -delete
  fi
  echo "$ref"
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(pause base ktf)
for t in "${targets[@]}"; do
  case $t in
    pause|base|ktf) "build_$t" ;;
    *) echo "unknown image: $t (expected pause, base or ktf)" >&2; exit 2 ;;
  esac
done
