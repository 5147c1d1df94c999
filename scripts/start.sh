#!/usr/bin/env bash
# Starts everything for a local run: Azurite (tables and queues, data kept in ./.azurite), the offline mock upstream (unless an
# upstream is configured through Upstreams__* environment variables) and the gateway on http://127.0.0.1:8080.
# Ctrl+C stops all of them.
set -euo pipefail
cd "$(dirname "$0")/.."

port=${GATEWAY_PORT:-8080}
mock_port=${MOCK_PORT:-5081}
export Gateway__ApiKeys__local=${Gateway__ApiKeys__local:-sk-local-dev-key}
export Storage__ConnectionString=${Storage__ConnectionString:-UseDevelopmentStorage=true}

if [ ! -d tools/node_modules/azurite ]; then
  echo "Installing Node tools (Azurite) into tools/node_modules..."
  npm ci --prefix tools --no-audit --no-fund --loglevel=error
fi
mkdir -p .azurite .run

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_for() {
  for _ in $(seq 1 150); do listening "$1" && return 0; sleep 0.2; done
  echo "$2 did not start on port $1; see .run/$3.log" >&2; exit 1
}

echo "Building the gateway and the mock upstream (Release)..."
# The gateway as it ships: published ReadyToRun (precompiled, less JIT at start-up) for this machine's runtime, with
# its own obj/bin under .run/artifacts so it does not disturb the plain builds of the tests.
dotnet publish src/ResponsesGateway.Server -c Release -r "$(dotnet --info | sed -n 's/^ *RID: *//p' | head -1)" \
  --self-contained false -p:PublishReadyToRun=true --artifacts-path .run/artifacts -o .run/server --nologo -v quiet >/dev/null
dotnet build src/ResponsesGateway.MockUpstream -c Release -o .run/mock --nologo -v quiet >/dev/null

# Tables hold the chains and conversations; the queue carries background runs (background: true).
if listening 10002; then
  echo "Azurite (or another table endpoint) is already listening on 10002; using it."
else
  tools/node_modules/.bin/azurite-table --tableHost 127.0.0.1 --tablePort 10002 --location .azurite \
    --skipApiVersionCheck --loose --disableTelemetry >.run/azurite.log 2>&1 &
  pids+=($!)
  wait_for 10002 Azurite azurite
fi
if listening 10001; then
  echo "Azurite (or another queue endpoint) is already listening on 10001; using it."
else
  tools/node_modules/.bin/azurite-queue --queueHost 127.0.0.1 --queuePort 10001 --location .azurite \
    --skipApiVersionCheck --loose --disableTelemetry >.run/azurite-queue.log 2>&1 &
  pids+=($!)
  wait_for 10001 "Azurite's queue service" azurite-queue
fi

if env | grep -q '^Upstreams__'; then
  echo "Using the upstream(s) configured in the environment."
else
  dotnet .run/mock/ResponsesGateway.MockUpstream.dll --urls "http://127.0.0.1:${mock_port}" >.run/mock.log 2>&1 &
  pids+=($!)
  wait_for "$mock_port" "The mock upstream" mock
  export Upstreams__mock__Kind=responses
  export Upstreams__mock__BaseUrl="http://127.0.0.1:${mock_port}/v1"
  export Upstreams__mock__Models='*'
  echo "Offline mock upstream on http://127.0.0.1:${mock_port}/v1 (any model; mock-tools, mock-reasoning, mock-error-503... misbehave on purpose)."
fi

.run/server/ResponsesGateway.Server --urls "http://127.0.0.1:${port}" &
pids+=($!)
wait_for "$port" "The gateway" server

cat <<MSG

ResponsesGateway is listening on http://127.0.0.1:${port}  (client key: ${Gateway__ApiKeys__local})
Try:
  curl -N http://127.0.0.1:${port}/v1/responses -H "Authorization: Bearer ${Gateway__ApiKeys__local}" -H "Content-Type: application/json" -d '{"model":"mock-model","input":"Hello!","stream":true}'

Ctrl+C stops everything.
MSG
wait "${pids[-1]}"
