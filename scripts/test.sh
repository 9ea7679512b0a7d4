#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds, then runs every vitest
# project (core, testkit, each plugin against its real server, end-to-end CLI).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
mkdir -p test-results
rm -f test-results/vitest.json
pnpm exec vitest run "$@"
