#!/usr/bin/env bash
# The demo, end to end on a fresh machine: a real local cluster comes up, ktf is built,
# its image is built and loaded, `ktf install` deploys the operator, and the example in
# examples/hello goes through workspace new, plan, apply, output, state versions and destroy.
# The cluster stays up afterwards; `scripts/cluster.sh down` stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
say() { printf '\n\033[1m$ %s\033[0m\n' "$*" >&2; }

# npm ci installs exactly the lock file and never rewrites it.
[ -d node_modules/.bin ] || npm ci --no-audit --no-fund
scripts/cluster.sh up
eval "$(scripts/cluster.sh env | sed 's/^/export /')"
npm run --silent build
image=$(scripts/build-images.sh ktf | tail -n 1)
scripts/load-images.sh "$image"

ktf() { node "$root/dist/bin/ktf.js" "$@"; }
say "ktf install --image $image"
ktf install --image "$image"

demo_ns=ktf-demo
"$KUBECTL" create namespace "$demo_ns" --dry-run=client -o yaml | "$KUBECTL" apply -f - >/dev/null
cd examples/hello
if ! ktf workspace show hello -n "$demo_ns" >/dev/null 2>&1; then
  say "ktf workspace new hello -n $demo_ns --var greeting=hi"
  ktf workspace new hello -n "$demo_ns" --var greeting=hi
else
  ktf workspace select hello -n "$demo_ns"
fi
say "ktf plan"
ktf plan
say "ktf apply -auto-approve"
ktf apply -auto-approve
say "ktf output"
ktf output
say "ktf state versions"
ktf state versions
say "ktf runs list"
ktf runs list
say "ktf destroy -auto-approve"
ktf destroy -auto-approve
say "ktf workspace show"
ktf workspace show
printf '\nThe demo is done. The cluster is still up: export KUBECONFIG=%s\nStop it with: scripts/cluster.sh down\n' "$KUBECONFIG" >&2
