#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds, type-checks the test files,
# then runs every vitest project (core, testkit, each plugin against its real server,
# end-to-end CLI). A type error fails the suite, but the tests still run and report.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
mkdir -p test-results
rm -f test-results/vitest.json
pnpm exec tsc -p tsconfig.test.json
typecheck=$?
[ "$typecheck" -ne 0 ] && echo "test files: type errors (tsc -p tsconfig.test.json)" >&2
pnpm exec vitest run "$@"
status=$?
[ "$status" -eq 0 ] && status=$typecheck
exit "$status"
