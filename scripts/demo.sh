#!/usr/bin/env bash
# The demo, end to end on a fresh machine: a real local cluster comes up, ktf is built,
# its image is built and loaded, the test provider's private mirror starts, `ktf install`
# deploys the operator with a default engine CLI configuration naming that mirror, and the
# example in examples/hello goes through workspace new, init (the lock file comes back),
# plan, apply, output, state versions and destroy.
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

eval "$(scripts/provider-mirror.sh up | sed 's/^/export /')"

ktf() { node "$root/dist/bin/ktf.js" "$@"; }
say "ktf install --image $image --cli-config-secret ktf-engine-config"
ktf install --image "$image" --cli-config-secret ktf-engine-config

demo_ns=ktf-demo
"$KUBECTL" create namespace "$demo_ns" --dry-run=client -o yaml | "$KUBECTL" apply -f - >/dev/null
# Where providers come from, for the namespace's runs: the mirror, and the CA it is signed by.
say "kubectl -n $demo_ns create secret generic ktf-engine-config --from-file=config.tfrc --from-file=ca.crt"
"$KUBECTL" -n "$demo_ns" create secret generic ktf-engine-config --from-file=config.tfrc="$MIRROR_CLI_CONFIG" \
  --from-file=ca.crt="$MIRROR_CA" --dry-run=client -o yaml | "$KUBECTL" apply -f - >/dev/null
cd examples/hello
if ! ktf workspace show hello -n "$demo_ns" >/dev/null 2>&1; then
  say "ktf workspace new hello -n $demo_ns --var greeting=hi"
  ktf workspace new hello -n "$demo_ns" --var greeting=hi
else
  ktf workspace select hello -n "$demo_ns"
fi
# The test provider is built on this machine: a lock file from an earlier build of it
# (git-ignored here) records other hashes, which the engine would rightly refuse.
rm -f .terraform.lock.hcl
say "ktf init"
ktf init
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
printf '\nThe demo is done. The cluster and the provider mirror are still up: export KUBECONFIG=%s\nStop them with: scripts/provider-mirror.sh down; scripts/cluster.sh down\n' "$KUBECONFIG" >&2
