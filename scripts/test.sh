#!/usr/bin/env bash
# Runs every test: unit, Azurite-backed storage, end-to-end SSE over real HTTP, SDK compatibility, infra checks.
# Installs what the tests need (the Node tools: Azurite, the OpenAI JS SDK; the Bicep CLI comes from NuGet); the tests start
# Azurite and the mock upstream themselves on free loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d tools/node_modules/azurite ] || [ tools/package-lock.json -nt tools/node_modules/.package-lock.json ]; then
  echo "Installing Node tools (Azurite, openai) into tools/node_modules..."
  npm ci --prefix tools --no-audit --no-fund --loglevel=error
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
dotnet test tests.slnf -c Release --nologo "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# One closing line over all test assemblies ("N passed, N failed"), from the runner's per-assembly summaries.
passed=$(grep -Eo 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
skipped=$(grep -Eo 'Skipped: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
exit "$status"
