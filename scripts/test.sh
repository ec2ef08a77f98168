#!/usr/bin/env bash
# Every test ktf has: static checks, unit tests, then the end-to-end tests on a real local
# cluster (started here, or reused when already up; stopped again if this run started it).
# Works on a fresh machine: it installs what it needs, and caches the slow parts (the
# Go-built binaries, the images) under ~/.cache/ktf.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS
step() { printf '\n== %s (%ss)\n' "$*" "$((SECONDS - t0))" >&2; }

step "dependencies"
# npm ci installs exactly the lock file and never rewrites it.
[ -d node_modules/.bin ] || npm ci --no-audit --no-fund
scripts/install-host-packages.sh
scripts/build-binaries.sh

step "lint and types"
npx eslint .
npx tsc -p tsconfig.json --noEmit

step "unit tests"
npx vitest run --project unit

step "end-to-end tests"
npx vitest run --project e2e

# The operator reinstalled with three replicas sharing the work, then as it was: alone.
step "end-to-end tests with several operator replicas"
npx vitest run --project replicas

# Installing, access and the audit trail once more where the API server is a stock one:
# no MutatingAdmissionPolicy, so runs carry their creator's claim from the client.
step "end-to-end tests on a stock API server"
KTF_STOCK_API=1 npx vitest run --project e2e test/smoke.test.ts test/access

step "done"
