#!/usr/bin/env bash
# One command for the benchmarks: builds Release, installs bench/node_modules (Azurite, Portkey), runs the
# BenchmarkDotNet allocation benchmarks, then the load harness, which starts Azurite, the mock upstream, the gateway
# processes and Portkey on 127.0.0.1, measures them side by side, prints the table and rewrites docs/benchmarks.md.
#   ./bench/run.sh            full run (about 10 minutes on 2 cores)
#   ./bench/run.sh --quick    short run (about 5 minutes)
#   --no-bdn                  skip the BenchmarkDotNet part
#   --head                    measure the committed HEAD (git archive into bench/.out/head) instead of the working tree,
#                             e.g. while others have half-finished edits in the same checkout
#   --only startup            only the start-up section (about a minute): prints the samples, skips BenchmarkDotNet and
#                             leaves docs/benchmarks.md alone; --startup-repeats N sets the number of samples (5)
#   --only chain              only the chain-depth section (about 2 minutes), printed the same way
#   --only telemetry          telemetry off against on (OTLP to a local sink), interleaved (about 4 minutes), printed
#   --composite               publish the gateway self-contained with one composite ReadyToRun image of the app and the
#                             framework (less JIT at start; about 3 minutes of crossgen2 on 2 cores, 136 MB)
# The gateway is published as it ships (ReadyToRun, framework-dependent, linux-x64, as scripts/start.sh runs it), with
# its own obj/bin under bench/.out/artifacts so a build running in the checkout at the same time is not disturbed.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
quick=""; bdn=1; head=0; only=""; repeats=""; composite=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick="--quick" ;;
    --no-bdn) bdn=0 ;;
    --head) head=1 ;;
    --only) only=${2:-}; shift; [ "$only" = startup ] || [ "$only" = chain ] || [ "$only" = telemetry ] || { echo "--only: the sections that run alone are startup, chain and telemetry" >&2; exit 2; } ;;
    --startup-repeats) repeats=${2:-}; shift ;;
    --composite) composite=1 ;;
    *) echo "unknown option $1 (use --quick, --no-bdn, --head, --only startup|chain, --startup-repeats N, --composite)" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$only" ] && bdn=0
command="./bench/run.sh${quick:+ --quick}$([ $bdn = 0 ] && echo ' --no-bdn' || true)$([ $head = 1 ] && echo ' --head' || true)$([ $composite = 1 ] && echo ' --composite' || true)"
out=bench/.out
mkdir -p "$out"

src=.
label="working tree at $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src 2>/dev/null || echo ' with uncommitted changes in src/')"
if [ $head = 1 ]; then
  src="$out/head"
  rm -rf "$src" && mkdir -p "$src/bench"
  git archive HEAD | tar -x -C "$src"
  # The bench projects as they are here; central package versions too if HEAD does not pin BenchmarkDotNet yet.
  (cd bench && tar -c --exclude=bin --exclude=obj ResponsesGateway.Benchmarks ResponsesGateway.LoadBench) | tar -x -C "$src/bench"
  grep -q '"BenchmarkDotNet"' "$src/Directory.Packages.props" || cp Directory.Packages.props "$src/"
  label="committed HEAD $(git rev-parse --short HEAD)"
fi

if [ ! -d bench/node_modules/@portkey-ai/gateway ] || [ ! -d bench/node_modules/azurite ]; then
  echo "Installing bench/node_modules (Azurite, @portkey-ai/gateway)..."
  npm ci --prefix bench --no-audit --no-fund --loglevel=error
fi

echo "Building Release..."
rm -rf "$out/server"
artifacts="$out/artifacts$([ $head = 1 ] && echo -head || true)"
if [ $composite = 1 ]; then
  publish=(--self-contained true -p:PublishReadyToRunComposite=true --artifacts-path "$artifacts-composite")
  label="$label, self-contained composite ReadyToRun"
else
  publish=(--self-contained false --artifacts-path "$artifacts")
fi
dotnet publish "$src/src/ResponsesGateway.Server" -c Release -r linux-x64 -p:PublishReadyToRun=true "${publish[@]}" \
  -o "$out/server" --nologo -v quiet -clp:ErrorsOnly
dotnet build "$src/src/ResponsesGateway.MockUpstream" -c Release -o "$out/mock" --nologo -v quiet -clp:ErrorsOnly
dotnet build "$src/bench/ResponsesGateway.LoadBench" -c Release -o "$out/loadbench" --nologo -v quiet -clp:ErrorsOnly

bdn_args=()
if [ $bdn = 1 ]; then
  dotnet build "$src/bench/ResponsesGateway.Benchmarks" -c Release -o "$out/benchmarks" --nologo -v quiet -clp:ErrorsOnly
  echo "Allocation benchmarks (BenchmarkDotNet)..."
  rm -f "$out/bdn.json"
  (cd "$out/benchmarks" && dotnet ResponsesGateway.Benchmarks.dll ${quick} --artifacts "$repo/$out/bdn" --json "$repo/$out/bdn.json") >"$out/bdn.log" 2>&1 \
    || { echo "BenchmarkDotNet failed; see $out/bdn.log" >&2; tail -20 "$out/bdn.log" >&2; exit 1; }
  bdn_args=(--bdn "$out/bdn.json")
fi

if [ -n "$only" ]; then
  echo "Only the $only section (nothing is written to docs/benchmarks.md)..."
  exec dotnet "$out/loadbench/ResponsesGateway.LoadBench.dll" --repo "$repo" --server "$out/server" --mock "$out/mock" \
    --only "$only" ${repeats:+--startup-repeats "$repeats"} ${quick}
fi

echo "Load harness..."
dotnet "$out/loadbench/ResponsesGateway.LoadBench.dll" --repo "$repo" --server "$out/server" --mock "$out/mock" \
  --doc docs/benchmarks.md --command "$command" --source "$label" ${quick} ${repeats:+--startup-repeats "$repeats"} "${bdn_args[@]}"
