#!/usr/bin/env bash
# Installs the Debian packages the local cluster and image builds need, or only those named
# (scripts/otf.sh: postgresql). Idempotent: it does nothing when they are all present.
#   scripts/install-host-packages.sh [PACKAGE...]
set -euo pipefail
pkgs=(containerd runc buildah containernetworking-plugins debootstrap iptables conntrack
  iproute2 openssl socat util-linux mount kmod ca-certificates curl xz-utils)
[ $# -eq 0 ] || pkgs=("$@")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "[install-host-packages] installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
