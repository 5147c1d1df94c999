using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace ResponsesGateway.LoadBench;

/// <summary>Turns the results into docs/benchmarks.md and its SVG charts.</summary>
internal static class Report
{
    private const string Mock = "mock (direct)";
    private const string False = "gateway store:false";
    private const string True = "gateway store:true";
    private const string Quiet = "gateway store:false, Warning logs";
    private const string Portkey = "portkey 1.15.2";

    public static (string Table, string Markdown) Write(Results r, BenchOptions options)
    {
        var docs = Path.GetDirectoryName(options.Doc)!;
        var fixedRows = Aggregate(r);
        var md = new StringBuilder();
        md.AppendLine("# Benchmarks");
        md.AppendLine();
        md.AppendLine("Reproduce with one command from the repository root (builds Release, installs `bench/node_modules`, starts everything on");
        md.AppendLine("127.0.0.1, measures, prints the table and rewrites this file and its charts):");
        md.AppendLine();
        md.AppendLine("```bash");
        md.AppendLine("./bench/run.sh            # full run, about 10 minutes on 2 cores (builds, BenchmarkDotNet, then ~6 minutes of load)");
        md.AppendLine("./bench/run.sh --quick    # short run, about 5 minutes: fewer rounds, shorter steps");
        md.AppendLine("./bench/run.sh --only startup   # just the start-up section, printed (about a minute)");
        md.AppendLine("./bench/run.sh --only chain     # just the chain-depth section, printed (about two minutes)");
        md.AppendLine("```");
        md.AppendLine();
        md.AppendLine($"This file was written by `{r.Command}`{(r.Quick ? " (quick mode: treat the figures as indicative)" : "")} in {r.Elapsed:m\\:ss}. " +
            "Everything ran on one shared 2-core machine while other work was going on, so absolute figures are noisy; compare the rows of one run with each other (ratios), not across runs.");
        md.AppendLine();

        md.AppendLine("## Machine");
        md.AppendLine();
        md.AppendLine("| fact | value |");
        md.AppendLine("| --- | --- |");
        foreach (var (k, v) in r.Machine)
        {
            md.AppendLine($"| {k} | {Esc(v)} |");
        }
        md.AppendLine();

        // ---- targets ------------------------------------------------------------------------------------------
        var at1000 = fixedRows.Where(x => x.Rate == 1000).ToDictionary(x => x.Target);
        var addedP50 = Added(at1000, False, s => s.P50);
        var addedP99 = Added(at1000, False, s => s.P99);
        var at100 = fixedRows.Where(x => x.Rate == 100).ToDictionary(x => x.Target);
        var ours100 = Added(at100, False, s => s.P50);
        var portkeyP50 = Added(at100, Portkey, s => s.P50);
        var startup = Load.Median(r.Startup);
        var (chainRatio, chainAddedRatio, chainUncachedAddedRatio) = ChainRatios(r.Chain);
        var targets = new List<(string Target, string Figure, bool Met, string Miss)>
        {
            ("added p50 ≤ 0.5 ms at 1,000 rps, store:false", $"{addedP50:0.00} ms", addedP50 <= 0.5, Miss(addedP50, 0.5, "ms")),
            ("added p99 ≤ 2 ms at 1,000 rps, store:false", $"{addedP99:0.00} ms", addedP99 <= 2, Miss(addedP99, 2, "ms")),
            ("added p50 ≤ half of Portkey's (JSON, at 100 rps where Portkey is not saturated)", $"{ours100:0.00} ms vs Portkey {portkeyP50:0.00} ms ({ours100 / portkeyP50:0.00}×)", ours100 <= portkeyP50 / 2, Miss(ours100, portkeyP50 / 2, "ms")),
            ("chain depth flat within 20% (the gateway's added p50, depth 100 / depth 1)", $"{chainAddedRatio:0.00}× (end to end, with the upstream's own cost of a longer body: {chainRatio:0.00}×; with the chain cache off: {chainUncachedAddedRatio:0.00}×)", chainAddedRatio <= 1.2, Miss(chainAddedRatio, 1.2, "×")),
            ("≤ 64 KB RSS per idle stream (as shipped: workstation GC)", r.Idle is null ? "n/a" : $"{r.Idle.KbPerStream:0.0} KB (with Server GC: {r.IdleServerGc?.KbPerStream:0.0} KB)", r.Idle?.KbPerStream <= 64, r.Idle is null ? "" : Miss(r.Idle.KbPerStream, 64, "KB")),
            ("process start to first served request ≤ 300 ms (median)", $"{startup:0} ms", startup <= 300, Miss(startup, 300, "ms")),
        };
        md.AppendLine("## Targets (issue 7)");
        md.AppendLine();
        md.AppendLine("| target | this run | met? |");
        md.AppendLine("| --- | --- | --- |");
        foreach (var t in targets)
        {
            md.AppendLine($"| {t.Target} | {t.Figure} | {(t.Met ? "met" : $"**missed** by {t.Miss}")} |");
        }
        md.AppendLine();
        md.AppendLine("Why a target is missed, with the evidence, is in [Findings](#findings) below.");
        md.AppendLine();

        // ---- fixed-rate latency ---------------------------------------------------------------------------------
        var table = new StringBuilder();
        table.AppendLine("| rate | target | p50 ms | p90 ms | p99 ms | added p50 ms | added p99 ms | p99 from due time ms | errors | CPU ms/req (process) | mock CPU ms/req | Azurite CPU ms/req |");
        table.AppendLine("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var row in fixedRows)
        {
            var byTarget = fixedRows.Where(x => x.Rate == row.Rate).ToDictionary(x => x.Target);
            var a50 = row.Target == Mock ? "—" : $"{Added(byTarget, row.Target, s => s.P50):0.000}";
            var a99 = row.Target == Mock ? "—" : $"{Added(byTarget, row.Target, s => s.P99):0.000}";
            table.AppendLine($"| {row.Rate:0} | {row.Target} | {row.P50:0.000} | {row.P90:0.000} | {row.P99:0.000} | {a50} | {a99} | {row.P99Corrected:0.000} | {row.Errors} | {Num(row.CpuMsPerRequest)} | {Num(row.MockCpuMsPerRequest)} | {Num(row.AzuriteCpuMsPerRequest)} |");
        }
        foreach (var (name, rate) in r.Saturated)
        {
            table.AppendLine($"| >{rate:0} | {name} | not run: saturated at {rate:0} rps (p50 > 100 ms or > 1 % errors) | | | | | | | | | |");
        }
        md.AppendLine("## Added latency at a constant rate (JSON, `POST /v1/responses`)");
        md.AppendLine();
        md.AppendLine($"Each row is an open-loop run of {options.RunDuration.TotalSeconds:0} s at the given rate, {options.Rounds} round(s) per target, the targets interleaved; the figures are the median over rounds. " +
            "*Added* = the row's percentile minus the direct mock call's percentile at the same rate in the same run. Request body `{\"model\":\"mock-model\",\"input\":\"Hello!\",\"store\":…}`; " +
            "the mock answers at once (no token or first-byte delay). Latency is measured from the moment the request was handed to the socket; " +
            "\"p99 from due time\" is measured from when the request was *due* (wrk2's coordinated-omission correction; it includes the load client's ~1 ms scheduling granularity). " +
            "CPU ms/req is the user+system CPU time (`/proc/<pid>/stat`) the process under test, the mock and Azurite spent during the run, divided by the requests served: unlike latency it barely depends on what else the machine is doing. " +
            "A target whose p50 passes 100 ms is not run at higher rates (it would only queue and disturb the others).");
        md.AppendLine();
        md.Append(table);
        md.AppendLine();
        md.AppendLine("![added p50 latency](benchmarks-added-p50.svg)");
        md.AppendLine();
        md.AppendLine("![added p99 latency](benchmarks-added-p99.svg)");
        md.AppendLine();
        var series = new[] { False, True, Quiet, Portkey };
        var rates = fixedRows.Select(x => x.Rate).Distinct().OrderBy(x => x).ToArray();
        File.WriteAllText(Path.Combine(docs, "benchmarks-added-p50.svg"), Svg.GroupedBars("Added p50 latency over the direct mock call (ms, lower is better)",
            rates.Select(x => $"{x:0} rps").ToArray(), series,
            rates.Select(rate => series.Select(s => Added(fixedRows.Where(x => x.Rate == rate).ToDictionary(x => x.Target), s, st => st.P50)).ToArray()).ToArray()));
        File.WriteAllText(Path.Combine(docs, "benchmarks-added-p99.svg"), Svg.GroupedBars("Added p99 latency over the direct mock call (ms, lower is better)",
            rates.Select(x => $"{x:0} rps").ToArray(), series,
            rates.Select(rate => series.Select(s => Added(fixedRows.Where(x => x.Rate == rate).ToDictionary(x => x.Target), s, st => st.P99)).ToArray()).ToArray()));

        // ---- max rate -----------------------------------------------------------------------------------------
        md.AppendLine("## Highest sustainable rate with p99 < 50 ms");
        md.AppendLine();
        md.AppendLine($"A short ramp ({options.RampStep.TotalSeconds:0} s per step: {string.Join(", ", options.RampRates.Select(x => x.ToString("0", CultureInfo.InvariantCulture)))} rps); a step passes when the p99 measured from the due time is under 50 ms, " +
            "errors ≤ 0.1 % and the achieved rate is ≥ 95 % of the offered one (a step that misses with a p50 under 50 ms is retried once). The load client runs on the same 2 cores, so these are lower bounds of what the process alone could do.");
        md.AppendLine();
        md.AppendLine("| target | highest passing step (rps) | first failing step |");
        md.AppendLine("| --- | ---: | --- |");
        foreach (var (name, max) in r.MaxRate)
        {
            var fail = r.Ramp.FirstOrDefault(s => s.Target == name && !s.Sustained(50));
            var why = fail is null ? "none (top of the ramp)" : $"{fail.Rate:0} rps: p99 {fail.P99Corrected:0.0} ms, achieved {fail.AchievedRate:0} rps, {fail.Errors} errors";
            md.AppendLine($"| {name} | {max:0} | {why} |");
        }
        md.AppendLine();

        // ---- SSE ------------------------------------------------------------------------------------------------
        md.AppendLine("## SSE: time to first event");
        md.AppendLine();
        md.AppendLine($"A small client of the harness sends one streaming request at a time ({r.Sse.FirstOrDefault()?.Count} per target, the targets interleaved) and times the end of the first event " +
            "(`response.created` through the gateway; the first chunk straight from the mock) and the end of the stream. The *chat* rows use an upstream configured with `Kind=chat` on the same mock " +
            "(`/v1/chat/completions`), so the gateway translates Chat Completions chunks into Responses events. The *JSON* rows are non-streaming requests timed the same way, one at a time, " +
            "to separate what streaming adds from what a lone request costs on an idle process (thread-pool wake-ups, no batching). " +
            $"Portkey is not in this table: its streaming path fails on Node {r.Machine.GetValueOrDefault("Node", "20")} (Portkey issue #1550). In this run: {Esc(r.PortkeyStream)}.");
        md.AppendLine();
        md.AppendLine("| target | first event p50 ms | first event p99 ms | added first event p50 ms | whole stream p50 ms | whole stream p99 ms |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var s in r.Sse)
        {
            var kind = s.Target[..s.Target.IndexOf(':', StringComparison.Ordinal)];
            var direct = r.Sse.FirstOrDefault(x => x.Target == kind + ": mock (direct)");
            var added = s.Target.Contains("direct", StringComparison.Ordinal) || direct is null ? "—" : $"{s.FirstP50 - direct.FirstP50:0.000}";
            md.AppendLine($"| {s.Target} | {s.FirstP50:0.000} | {s.FirstP99:0.000} | {added} | {s.TotalP50:0.000} | {s.TotalP99:0.000} |");
        }
        md.AppendLine();

        // ---- idle streams ---------------------------------------------------------------------------------------
        md.AppendLine("## Memory per open idle stream");
        md.AppendLine();
        if (r.Idle is { } idle)
        {
            md.AppendLine("A fresh gateway process (as shipped: workstation GC, the `appsettings.json` logging) is warmed with 500 JSON and 200 SSE requests; its VmRSS (`/proc/<pid>/status`, median of 5 samples) is the baseline. " +
                $"Then {idle.Requested} SSE requests with the mock's `mock-stall-600000` model are opened (the mock pauses after the first delta), each read up to its first event and held open.");
            md.AppendLine();
            md.AppendLine("| streams open | baseline RSS | RSS with the streams | per stream | threads (baseline → open) | time to open them |");
            md.AppendLine("| ---: | ---: | ---: | ---: | --- | ---: |");
            md.AppendLine($"| {idle.Open} | {idle.BaselineKb / 1024:0.0} MiB | {idle.WithStreamsKb / 1024:0.0} MiB | **{idle.KbPerStream:0.0} KB** | {idle.BaselineThreads} → {idle.Threads} | {idle.OpenSeconds:0.0} s |");
            if (r.IdleServerGc is { } ws)
            {
                md.AppendLine($"| {ws.Open} (same, Server GC: `DOTNET_gcServer=1`) | {ws.BaselineKb / 1024:0.0} MiB | {ws.WithStreamsKb / 1024:0.0} MiB | **{ws.KbPerStream:0.0} KB** | {ws.BaselineThreads} → {ws.Threads} | {ws.OpenSeconds:0.0} s |");
            }
            md.AppendLine();
        }

        // ---- chain ----------------------------------------------------------------------------------------------
        if (r.Chain is { } chain)
        {
            md.AppendLine("## Chain depth");
            md.AppendLine();
            md.AppendLine("Three chains are built on a gateway process of their own, with a table of their own, with `previous_response_id` (1, 10 and 100 turns, JSON, store:true; median time to add a turn while building: " +
                $"{chain.BuildTurnMedianMs:0.00} ms). Then, one request at a time and interleaved, requests fork from each chain's last turn with `store:false`, " +
                "so the depth stays fixed (after 60 untimed rounds, so the fresh process runs optimised code). The upstream receives the whole expanded chain, so the mock column times a direct mock call with a body of the same number of items: the difference is the gateway's part. " +
                "The gateway that built the chains holds their context in memory (`Gateway:ChainCacheMegabytes`, default 64) and checks with one point read of the parent's head row that it is still there; " +
                "a second gateway on the same table with the cache off (`Gateway:ChainCacheMegabytes=0`: another instance of a scaled-out app, or a restarted one) is timed on the same forks, and reads the whole partition.");
            md.AppendLine();
            md.AppendLine("| depth | items sent upstream | upstream body | gateway p50 ms | gateway p99 ms | direct mock, same items, p50 ms | **added p50 ms** | its point read alone (Azurite) p50 ms | cache off: gateway p50 ms | cache off: added p50 ms | the partition query alone (Azurite) p50 ms |");
            md.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            foreach (var d in chain.Depths)
            {
                md.AppendLine($"| {d.Depth} | {d.UpstreamItems} | {d.UpstreamBodyBytes / 1024.0:0.0} KB | {d.GatewayP50:0.000} | {d.GatewayP99:0.000} | {d.MockP50:0.000} | **{d.GatewayP50 - d.MockP50:0.000}** | {d.PointReadP50:0.000} | {d.UncachedP50:0.000} | {d.UncachedP50 - d.MockP50:0.000} | {d.QueryP50:0.000} |");
            }
            md.AppendLine();
            md.AppendLine($"Ratio depth 100 / depth 1 of the gateway's added p50: **{chainAddedRatio:0.00}×** (the target's measure); end to end, with the upstream's own cost of parsing a longer body: {chainRatio:0.00}×; with the cache off: {chainUncachedAddedRatio:0.00}×.");
            md.AppendLine();
        }
        if (r.Storage is { } storage)
        {
            md.AppendLine($"**Storage per turn** (the 100-turn chain's partition read back with `Azure.Data.Tables.TableClient`, {storage.Rows} rows): " +
                $"{storage.PayloadBytesPerTurn:0} bytes of gzip payload (the `P00…` binary properties) and {storage.PropertyBytesPerTurn:0} bytes for all properties with their names and keys. " +
                "A turn stores its own input and its Response object, not the history, so this does not grow with depth.");
            md.AppendLine();
        }

        // ---- startup --------------------------------------------------------------------------------------------
        md.AppendLine("## Process start to first served request");
        md.AppendLine();
        md.AppendLine("The Release apphost `ResponsesGateway.Server` is spawned with the bench configuration; the harness polls its port with TCP connects (every 2 ms) " +
            "until it accepts, then `POST /v1/responses` (store:false) until the first 200, which includes the first upstream call and the JIT of the whole request path.");
        md.AppendLine();
        md.AppendLine("| | samples ms | median ms |");
        md.AppendLine("| --- | --- | ---: |");
        md.AppendLine($"| gateway: first 200 | {string.Join(", ", r.Startup.Select(x => x.ToString("0", CultureInfo.InvariantCulture)))} | **{startup:0}** |");
        md.AppendLine($"| gateway: its port accepts a TCP connection (host built and started) | {string.Join(", ", r.StartupListening.Select(x => x.ToString("0", CultureInfo.InvariantCulture)))} | {Load.Median(r.StartupListening):0} |");
        md.AppendLine($"| reference: the mock (a minimal ASP.NET Core app, its apphost) to its first 200 | {string.Join(", ", r.StartupMock.Select(x => x.ToString("0", CultureInfo.InvariantCulture)))} | {Load.Median(r.StartupMock):0} |");
        md.AppendLine();

        // ---- allocations ----------------------------------------------------------------------------------------
        md.AppendLine("## Allocations per request (BenchmarkDotNet MemoryDiagnoser)");
        md.AppendLine();
        if (r.Benchmarks is { Count: > 0 } bdn)
        {
            md.AppendLine("From `bench/ResponsesGateway.Benchmarks` (BenchmarkDotNet 0.14.0, in-process toolchain, short job). `InternalsVisibleTo` is not granted to it, so the SSE writer is measured " +
                "through the in-process server (real Kestrel on 127.0.0.1:0, an in-memory upstream and a no-op store substituted through `GatewayApp.Build`'s service hook) and the chat translator " +
                "through the public `UpstreamFactory.Create` with an in-memory `HttpMessageHandler` that replays bytes recorded from the mock. The MemoryDiagnoser counts every thread of the process " +
                "(`GC.GetTotalAllocatedBytes`), so server rows include Kestrel and the HttpClient that calls it.");
            md.AppendLine();
            md.AppendLine("| benchmark | what | mean | allocated / op |");
            md.AppendLine("| --- | --- | ---: | ---: |");
            foreach (var b in bdn.OfType<JsonObject>())
            {
                md.AppendLine($"| {b["name"]} | {b["what"]} | {(double)b["meanUs"]!:0.0} µs | {(double)b["allocatedBytes"]! / 1024:0.0} KB |");
            }
            md.AppendLine();
            md.AppendLine(Derived(bdn));
            md.AppendLine();
        }
        else
        {
            md.AppendLine("(not run: `./bench/run.sh` runs them unless `--no-bdn` is given)");
            md.AppendLine();
        }

        // ---- method ---------------------------------------------------------------------------------------------
        md.AppendLine("## How it is measured");
        md.AppendLine();
        md.AppendLine("* **Processes.** Azurite (`bench/node_modules`, in-memory), the mock upstream (`dotnet ResponsesGateway.MockUpstream.dll`, Release, no delays), three gateway processes " +
            "(the Release apphost `ResponsesGateway.Server`: one receives the store:false requests, one the store:true requests, one store:false with `Logging__LogLevel__Default=Warning` to price the default logging), " +
            "fresh gateway processes for the start-up and idle-stream figures, and Portkey `@portkey-ai/gateway` 1.15.2 (`node bench/portkey-loopback.mjs`, which forces its listener onto 127.0.0.1). " +
            "Every process binds 127.0.0.1 only. Both upstreams of the gateway point at the mock: `a-native` (`Kind=responses`, models `mock-*`) and `b-chat` (`Kind=chat`, models `chat-*`).");
        md.AppendLine("* **Portkey passthrough.** Portkey is called on its own `POST /v1/responses` with `x-portkey-provider: openai` and `x-portkey-custom-host: http://127.0.0.1:<mock>/v1`; " +
            "127.0.0.1 is in its default `TRUSTED_CUSTOM_HOSTS`, so the request reaches the mock's `/v1/responses` unchanged.");
        md.AppendLine("* **Load client.** Our own open-loop client (`bench/ResponsesGateway.LoadBench/Load.cs`): request *i* is sent at start + *i*/rate whatever happened to the earlier ones. " +
            "wrk2 is not packaged; `hey -q` limits each worker's rate (closed loop: a slow response delays the next request, which hides queueing); autocannon's `--overallRate` is likewise bounded by its connection count and adds Node's own jitter on a 2-core box. " +
            "An in-process C# client also lets every target share one client, one connection pool policy and one clock. It runs on the same 2 cores as the servers, so it is part of the noise for every row alike.");
        md.AppendLine("* **Warm-up.** Every target gets 1,500–4,000 closed-loop requests before anything is timed (tiered JIT reaches its optimised code).");
        md.AppendLine();

        // ---- findings (hand-written) ----------------------------------------------------------------------------
        var findings = Path.Combine(options.Bench, "findings.md");
        if (File.Exists(findings))
        {
            md.AppendLine(File.ReadAllText(findings).TrimEnd());
            md.AppendLine();
        }

        Directory.CreateDirectory(docs);
        File.WriteAllText(options.Doc, md.ToString());

        var summary = new StringBuilder();
        summary.Append(table);
        summary.AppendLine();
        foreach (var t in targets)
        {
            summary.AppendLine($"{(t.Met ? "MET   " : "MISSED")} {t.Target}: {t.Figure}");
        }
        return (summary.ToString(), md.ToString());
    }

    private static string Derived(JsonArray bdn)
    {
        double? Get(string name) => bdn.OfType<JsonObject>().FirstOrDefault(b => (string?)b["name"] == name) is { } o ? (double)o["allocatedBytes"]! : null;
        var lines = new List<string>();
        if (Get("ServerSse") is { } sse && Get("ServerJson") is { } json && Get("StubEvents") is { } stubEvents && Get("StubJson") is { } stubJson
            && bdn.OfType<JsonObject>().FirstOrDefault(b => (string?)b["name"] == "ServerSse")?["events"] is { } ev)
        {
            var events = (int)ev;
            var writer = (sse - json) - (stubEvents - stubJson);
            lines.Add($"* **SSE path vs JSON path** (same reply, {events} events): {(sse - json) / 1024:0.0} KB more per request; minus the in-memory upstream's own extra cost of producing events " +
                $"({(stubEvents - stubJson) / 1024:0.0} KB) that leaves ≈ **{writer / 1024:0.0} KB per streamed request, ≈ {writer / events:0} bytes per event** for what a streamed event costs on top: tracking it (`StreamTracker.Observe`), renumbering/reordering it (`TurnStream.WriteAsync`), serialising and flushing it (`SseResponseWriter`, Kestrel's chunked writes) and the client reading one more chunk.");
        }
        if (Get("ChatStream") is { } chat && Get("NativeStream") is { } native)
        {
            lines.Add($"* **Chat translator** (streamed): {chat / 1024:0.0} KB per request vs {native / 1024:0.0} KB for the native Responses adapter reading the same reply, i.e. {(chat - native) / 1024:+0.0;-0.0} KB for the translation.");
        }
        if (Get("ChatJson") is { } chatJson && Get("NativeJson") is { } nativeJson)
        {
            lines.Add($"* **Chat translator** (JSON): {chatJson / 1024:0.0} KB vs {nativeJson / 1024:0.0} KB native.");
        }
        return string.Join(Environment.NewLine, lines);
    }

    private static string Miss(double value, double limit, string unit) =>
        double.IsNaN(value) ? "n/a" : unit == "×" ? $"{value / limit:0.00}× the limit ({value:0.00}× vs {limit:0.00}×)" : $"{value - limit:0.00} {unit} ({value / limit:0.0}× the limit)";

    private static double Added(Dictionary<string, RunStats> byTarget, string target, Func<RunStats, double> pick) =>
        byTarget.TryGetValue(target, out var t) && byTarget.TryGetValue(Mock, out var m) ? pick(t) - pick(m) : double.NaN;

    /// <summary>Median over rounds of each statistic, per rate and target, in run order.</summary>
    private static List<RunStats> Aggregate(Results r) =>
        r.Fixed.GroupBy(s => (s.Rate, s.Target)).Select(g => new RunStats(g.Key.Target, g.Key.Rate, g.Sum(x => x.Sent), g.Sum(x => x.Errors),
            Load.Median(g.Select(x => x.AchievedRate)), Load.Median(g.Select(x => x.P50)), Load.Median(g.Select(x => x.P90)), Load.Median(g.Select(x => x.P99)),
            g.Max(x => x.Max), Load.Median(g.Select(x => x.P99Corrected)))
        {
            CpuMsPerRequest = Load.Median(g.Select(x => x.CpuMsPerRequest)),
            MockCpuMsPerRequest = Load.Median(g.Select(x => x.MockCpuMsPerRequest)),
            AzuriteCpuMsPerRequest = Load.Median(g.Select(x => x.AzuriteCpuMsPerRequest)),
        }).ToList();

    private static string Num(double v) => double.IsNaN(v) ? "—" : v.ToString("0.000", CultureInfo.InvariantCulture);

    private static string Esc(string s) => s.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    internal static (double EndToEnd, double Added, double UncachedAdded) ChainRatios(ChainResult? chain)
    {
        if (chain is null)
        {
            return (double.NaN, double.NaN, double.NaN);
        }
        var deep = chain.Depths.Single(d => d.Depth == 100);
        var shallow = chain.Depths.Single(d => d.Depth == 1);
        return (deep.GatewayP50 / shallow.GatewayP50,
            (deep.GatewayP50 - deep.MockP50) / (shallow.GatewayP50 - shallow.MockP50),
            (deep.UncachedP50 - deep.MockP50) / (shallow.UncachedP50 - shallow.MockP50));
    }
}

/// <summary>A grouped bar chart as a self-contained SVG (no script, no external font).</summary>
internal static class Svg
{
    private static readonly string[] Colors = ["#2b6cb0", "#68a0d8", "#38a169", "#dd6b20", "#805ad5", "#718096"];

    public static string GroupedBars(string title, string[] groups, string[] series, double[][] values)
    {
        const int width = 760, height = 380, left = 60, right = 20, top = 50, bottom = 90;
        var plotW = width - left - right;
        var plotH = height - top - bottom;
        var finite = values.SelectMany(v => v).Where(v => !double.IsNaN(v) && !double.IsInfinity(v)).ToArray();
        var max = finite.Length == 0 ? 1 : Math.Max(finite.Max(), 0);
        var min = finite.Length == 0 ? 0 : Math.Min(finite.Min(), 0);
        var step = NiceStep((max - min) / 5);
        max = Math.Ceiling(max / step) * step;
        min = Math.Floor(min / step) * step;
        if (max - min <= 0)
        {
            max = min + 1;
        }
        double Y(double v) => top + plotH * (max - v) / (max - min);
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">");
        sb.AppendLine(CultureInfo.InvariantCulture, $"<rect width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>");
        sb.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{width / 2}\" y=\"28\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">{WebUtility.HtmlEncode(title)}</text>");
        for (var v = min; v <= max + step / 2; v += step)
        {
            var y = Y(v);
            sb.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{y:0.0}\" x2=\"{width - right}\" y2=\"{y:0.0}\" stroke=\"{(Math.Abs(v) < step / 1000 ? "#333" : "#ddd")}\"/>");
            sb.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{left - 6}\" y=\"{y + 4:0.0}\" text-anchor=\"end\" fill=\"#333\">{v:0.##}</text>");
        }
        var groupW = plotW / (double)groups.Length;
        var barW = groupW * 0.8 / series.Length;
        for (var g = 0; g < groups.Length; g++)
        {
            var x0 = left + g * groupW + groupW * 0.1;
            for (var s = 0; s < series.Length; s++)
            {
                var v = values[g][s];
                if (double.IsNaN(v))
                {
                    continue;
                }
                var y1 = Y(Math.Max(v, 0));
                var y2 = Y(Math.Min(v, 0));
                var x = x0 + s * barW;
                sb.AppendLine(CultureInfo.InvariantCulture, $"<rect x=\"{x:0.0}\" y=\"{y1:0.0}\" width=\"{barW - 2:0.0}\" height=\"{Math.Max(y2 - y1, 0.5):0.0}\" fill=\"{Colors[s % Colors.Length]}\"><title>{WebUtility.HtmlEncode(series[s])}: {v:0.000}</title></rect>");
                sb.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{x + (barW - 2) / 2:0.0}\" y=\"{(v >= 0 ? y1 - 4 : y2 + 12):0.0}\" text-anchor=\"middle\" font-size=\"10\" fill=\"#333\">{v:0.00}</text>");
            }
            sb.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{left + g * groupW + groupW / 2:0.0}\" y=\"{top + plotH + 18}\" text-anchor=\"middle\" fill=\"#333\">{WebUtility.HtmlEncode(groups[g])}</text>");
        }
        for (var s = 0; s < series.Length; s++)
        {
            var lx = left + (s % 3) * 230;
            var ly = height - 46 + (s / 3) * 18;
            sb.AppendLine(CultureInfo.InvariantCulture, $"<rect x=\"{lx}\" y=\"{ly - 10}\" width=\"12\" height=\"12\" fill=\"{Colors[s % Colors.Length]}\"/>");
            sb.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{lx + 18}\" y=\"{ly}\" fill=\"#333\">{WebUtility.HtmlEncode(series[s])}</text>");
        }
        sb.AppendLine("</svg>");
        return sb.ToString();
    }

    private static double NiceStep(double raw)
    {
        if (raw <= 0 || double.IsNaN(raw))
        {
            return 1;
        }
        var mag = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var n = raw / mag;
        return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * mag;
    }
}
