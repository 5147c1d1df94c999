using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using ResponsesGateway.LoadBench;

// bench/run.sh builds everything in Release and runs this with the paths of the build outputs.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
ThreadPool.SetMinThreads(64, 64);

var options = BenchOptions.Parse(args);
var results = new Results { Quick = options.Quick, Command = options.Command };
var log = Console.Out;
const string ApiKey = "sk-bench-key-0123456789";
const string AzuriteKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
var logs = Path.Combine(options.Out, "logs");
var children = new List<ChildProcess>();
var total = Stopwatch.StartNew();

try
{
    // ---- processes -------------------------------------------------------------------------------------------
    var azurite = Start("azurite", Path.Combine(options.Bench, "node_modules", ".bin", "azurite-table"), port =>
        ["--tableHost", "127.0.0.1", "--tablePort", port.ToString(CultureInfo.InvariantCulture), "--inMemoryPersistence", "--skipApiVersionCheck", "--loose", "--disableTelemetry"],
        new Dictionary<string, string>(), Path.Combine(options.Out, "azurite"));
    var mock = Start("mock", "dotnet", port => [Path.Combine(options.Mock, "ResponsesGateway.MockUpstream.dll"), "--urls", $"http://127.0.0.1:{port}"],
        new Dictionary<string, string> { ["MOCK_TOKEN_DELAY_MS"] = "0", ["MOCK_FIRST_BYTE_DELAY_MS"] = "0", ["DOTNET_gcServer"] = "0" });
    var connection = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AzuriteKey};TableEndpoint=http://127.0.0.1:{azurite.Port}/devstoreaccount1;";
    Dictionary<string, string> GatewayEnv(string table, string? logLevel = null)
    {
        var env = new Dictionary<string, string>
        {
            ["Gateway__ApiKeys__bench"] = ApiKey,
            ["Upstreams__a-native__Kind"] = "responses",
            ["Upstreams__a-native__BaseUrl"] = $"http://127.0.0.1:{mock.Port}/v1",
            ["Upstreams__a-native__Models"] = "mock-*",
            ["Upstreams__b-chat__Kind"] = "chat",
            ["Upstreams__b-chat__BaseUrl"] = $"http://127.0.0.1:{mock.Port}/v1",
            ["Upstreams__b-chat__Models"] = "chat-*",
            ["Storage__ConnectionString"] = connection,
            ["Storage__TableName"] = table,
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        };
        if (logLevel is not null)
        {
            env["Logging__LogLevel__Default"] = logLevel;
        }
        return env;
    }
    string[] GatewayArgs(int port) => ["--urls", $"http://127.0.0.1:{port}"];
    var serverExe = Path.Combine(options.Server, "ResponsesGateway.Server");
    await Task.WhenAll(azurite.WaitForPortAsync(TimeSpan.FromSeconds(60)), mock.WaitForPortAsync(TimeSpan.FromSeconds(60)));
    // Chain depth on a gateway of its own and a second one on the same table with the chain cache off: what a chain
    // costs on an instance that has not seen it (another instance of a scaled-out app, or after a restart).
    async Task<ChainResult> RunChainAsync(string table, Dictionary<string, string> headers)
    {
        var gwChain = Start("gateway-chain", serverExe, GatewayArgs, GatewayEnv(table));
        var coldEnv = GatewayEnv(table);
        coldEnv["Gateway__ChainCacheMegabytes"] = "0";
        var gwChainCold = Start("gateway-chain-uncached", serverExe, GatewayArgs, coldEnv);
        await gwChain.WaitForPortAsync(TimeSpan.FromSeconds(60));
        await gwChainCold.WaitForPortAsync(TimeSpan.FromSeconds(60));
        var direct = new Target("mock (direct)", new Uri(mock.BaseUrl, "/v1/responses"), """{"model":"mock-model","input":"Hello!","store":false}""");
        var chain = await MeasureChainAsync(new Uri(gwChain.BaseUrl, "/v1/responses"), new Uri(gwChainCold.BaseUrl, "/v1/responses"), direct, headers, options.ChainRounds, new TableClient(connection, table));
        foreach (var c in chain.Depths)
        {
            log.WriteLine($"[{total.Elapsed:mm\\:ss}] depth {c.Depth,3}: gateway p50 {c.GatewayP50:0.000} p99 {c.GatewayP99:0.000} ms (added {c.GatewayP50 - c.MockP50:0.000}), uncached gateway p50 {c.UncachedP50:0.000} ms (added {c.UncachedP50 - c.MockP50:0.000}), mock with the same {c.UpstreamItems} items p50 {c.MockP50:0.000} ms, point read alone p50 {c.PointReadP50:0.000} ms, partition query alone p50 {c.QueryP50:0.000} ms");
        }
        var (endToEnd, added, uncachedAdded) = Report.ChainRatios(chain);
        log.WriteLine($"[{total.Elapsed:mm\\:ss}] depth 100 / depth 1: added {added:0.00}x, end to end {endToEnd:0.00}x, cache off (added) {uncachedAdded:0.00}x");
        return chain;
    }
    if (options.Only == "chain")
    {
        // Just the chain-depth section (./bench/run.sh --only chain), on a table of its own: printed, no document.
        await RunChainAsync("benchchainonly" + Environment.ProcessId, new Dictionary<string, string> { ["Authorization"] = "Bearer " + ApiKey });
        return 0;
    }
    if (options.Only == "startup")
    {
        // Just the start-up section (./bench/run.sh --only startup): prints the samples, writes no document.
        var (first, listen, mockFirst, cpu, mockCpu) = await MeasureStartupAsync(options.StartupRepeats);
        string Samples(List<double> s) => string.Join(", ", s.Select(v => v.ToString("0", CultureInfo.InvariantCulture)));
        log.WriteLine($"start to first 200 (gateway): {Samples(first)} ms; median {Load.Median(first):0} ms");
        log.WriteLine($"listening after (gateway):    {Samples(listen)} ms; median {Load.Median(listen):0} ms");
        log.WriteLine($"start to first 200 (mock):    {Samples(mockFirst)} ms; median {Load.Median(mockFirst):0} ms");
        log.WriteLine($"CPU used by then (gateway):   {Samples(cpu)} ms; median {Load.Median(cpu):0} ms");
        log.WriteLine($"CPU used by then (mock):      {Samples(mockCpu)} ms; median {Load.Median(mockCpu):0} ms");
        log.WriteLine($"gateway / mock first 200: {Load.Median(first) / Load.Median(mockFirst):0.00}; CPU: {Load.Median(cpu) / Load.Median(mockCpu):0.00}");
        return 0;
    }
    if (options.Only == "telemetry")
    {
        // Telemetry off against on (OTLP/HTTP to a local sink that accepts and drops), same run, interleaved
        // (./bench/run.sh --only telemetry): printed, no document.
        // Logs each export (path and bytes) to its log file, bench/.out/logs/otlp-sink*.
        const string SinkScript = "require('http').createServer((q,s)=>{let n=0;q.on('data',c=>n+=c.length);q.on('end',()=>{console.log(q.url+' '+n);s.writeHead(200,{'content-type':'application/x-protobuf'});s.end();});}).listen(+process.argv[process.argv.length-1],'127.0.0.1')";
        var sink = Start("otlp-sink", "node", port => ["-e", SinkScript, port.ToString(CultureInfo.InvariantCulture)], new Dictionary<string, string>());
        var onEnv = GatewayEnv("benchtelon", "Warning");
        onEnv["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{sink.Port}";
        onEnv["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
        var gwOff = Start("gateway-telemetry-off", serverExe, GatewayArgs, GatewayEnv("benchteloff", "Warning"));
        var gwOn = Start("gateway-telemetry-on", serverExe, GatewayArgs, onEnv);
        await Task.WhenAll(new[] { sink, gwOff, gwOn }.Select(p => p.WaitForPortAsync(TimeSpan.FromSeconds(60))));
        Dictionary<string, string> key = new() { ["Authorization"] = "Bearer " + ApiKey };
        const string Json = """{"model":"mock-model","input":"Hello!","store":true}""";
        const string Sse = """{"model":"mock-model","input":"Hello!","stream":true,"store":true}""";
        var off = new Target("telemetry off", new Uri(gwOff.BaseUrl, "/v1/responses"), Json, key);
        var on = new Target("telemetry on (OTLP)", new Uri(gwOn.BaseUrl, "/v1/responses"), Json, key);
        foreach (var t in new[] { off, on })
        {
            await Load.TimedAsync(t);
            await Load.WarmAsync(t, options.Quick ? 1500 : 4000, 8);
        }
        var process = new Dictionary<Target, ChildProcess> { [off] = gwOff, [on] = gwOn };
        var rate = options.Quick ? 200 : 300;
        var runs = new Dictionary<Target, List<(double P50, double P99, double Cpu)>> { [off] = [], [on] = [] };
        var bursts = new Dictionary<Target, List<double>> { [off] = [], [on] = [] };
        for (var round = 0; round < (options.Quick ? 3 : 5); round++)
        {
            foreach (var t in round % 2 == 0 ? new[] { off, on } : new[] { on, off })
            {
                var cpu0 = process[t].CpuMs();
                var stats = Load.OpenLoop(t, rate, TimeSpan.FromSeconds(options.Quick ? 6 : 10));
                var cpu = (process[t].CpuMs() - cpu0) / Math.Max(1, stats.Sent - stats.Errors);
                runs[t].Add((stats.P50, stats.P99, cpu));
                log.WriteLine($"[{total.Elapsed:mm\\:ss}] {rate} rps {t.Name,-20} p50 {stats.P50:0.000} p99 {stats.P99:0.000} ms errors {stats.Errors} cpu/req {cpu:0.000} ms");
                await Task.Delay(1000);
                // Closed loop, 16 at a time: requests per second the gateway turns around on this box.
                var n = options.Quick ? 2000 : 4000;
                var sw = Stopwatch.StartNew();
                var errors = await Load.WarmAsync(t, n, 16);
                bursts[t].Add((n - errors) / sw.Elapsed.TotalSeconds);
                log.WriteLine($"[{total.Elapsed:mm\\:ss}] closed loop {t.Name,-20} {bursts[t][^1]:0} req/s ({errors} errors)");
                await Task.Delay(1000);
            }
        }
        var sse = await MeasureSseAsync(
        [
            new Target("SSE telemetry off", new Uri(gwOff.BaseUrl, "/v1/responses"), Sse, key),
            new Target("SSE telemetry on (OTLP)", new Uri(gwOn.BaseUrl, "/v1/responses"), Sse, key),
        ], options.Quick ? 300 : 600);
        log.WriteLine();
        foreach (var t in new[] { off, on })
        {
            log.WriteLine($"{t.Name,-20} JSON store:true at {rate} rps: p50 {Load.Median(runs[t].Select(r => r.P50)):0.000} ms, p99 {Load.Median(runs[t].Select(r => r.P99)):0.000} ms, cpu/req {Load.Median(runs[t].Select(r => r.Cpu)):0.000} ms (medians of {runs[t].Count} runs); closed loop {Load.Median(bursts[t]):0} req/s");
        }
        foreach (var s in sse)
        {
            log.WriteLine($"{s.Target,-24} first event p50 {s.FirstP50:0.000} p99 {s.FirstP99:0.000}, whole stream p50 {s.TotalP50:0.000} ms ({s.Count} requests)");
        }
        log.WriteLine($"OTLP sink CPU: {sink.CpuMs():0} ms (its log lists every export it received)");
        return 0;
    }
    var gwFalse = Start("gateway-store-false", serverExe, GatewayArgs, GatewayEnv("benchfalse"));
    var gwTrue = Start("gateway-store-true", serverExe, GatewayArgs, GatewayEnv("benchtrue"));
    var gwQuiet = Start("gateway-store-false-warning-logs", serverExe, GatewayArgs, GatewayEnv("benchquiet", "Warning"));
    var portkey = Start("portkey", "node", port => [Path.Combine(options.Bench, "portkey-loopback.mjs"), $"--port={port}"], new Dictionary<string, string>());
    await Task.WhenAll(new[] { gwFalse, gwTrue, gwQuiet, portkey }.Select(p => p.WaitForPortAsync(TimeSpan.FromSeconds(60))));
    log.WriteLine($"[{total.Elapsed:mm\\:ss}] started: azurite :{azurite.Port}, mock :{mock.Port}, gateways :{gwFalse.Port} (store:false) :{gwTrue.Port} (store:true) :{gwQuiet.Port} (store:false, Warning logs), portkey :{portkey.Port}");

    Dictionary<string, string> auth = new() { ["Authorization"] = "Bearer " + ApiKey };
    Dictionary<string, string> portkeyHeaders = new()
    {
        ["Authorization"] = "Bearer sk-unused",
        ["x-portkey-provider"] = "openai",
        ["x-portkey-custom-host"] = $"http://127.0.0.1:{mock.Port}/v1",
    };
    const string JsonFalse = """{"model":"mock-model","input":"Hello!","store":false}""";
    const string JsonTrue = """{"model":"mock-model","input":"Hello!","store":true}""";
    var tMock = new Target("mock (direct)", new Uri(mock.BaseUrl, "/v1/responses"), JsonFalse);
    var tFalse = new Target("gateway store:false", new Uri(gwFalse.BaseUrl, "/v1/responses"), JsonFalse, auth);
    var tTrue = new Target("gateway store:true", new Uri(gwTrue.BaseUrl, "/v1/responses"), JsonTrue, auth);
    var tQuiet = new Target("gateway store:false, Warning logs", new Uri(gwQuiet.BaseUrl, "/v1/responses"), JsonFalse, auth);
    var tPortkey = new Target("portkey 1.15.2", new Uri(portkey.BaseUrl, "/v1/responses"), JsonFalse, portkeyHeaders);
    var jsonTargets = new[] { tMock, tFalse, tTrue, tQuiet, tPortkey };

    // Sanity: every target answers 200 before anything is measured.
    foreach (var t in jsonTargets)
    {
        await Load.TimedAsync(t);
    }

    // ---- Portkey SSE (expected to fail on Node 20: Portkey issue #1550) ---------------------------------------
    results.PortkeyStream = await TryPortkeyStreamAsync(tPortkey.With("portkey sse", """{"model":"mock-model","input":"Hello!","stream":true}"""));
    log.WriteLine($"[{total.Elapsed:mm\\:ss}] portkey stream: {results.PortkeyStream}");

    // ---- start-up time -----------------------------------------------------------------------------------------
    (results.Startup, results.StartupListening, results.StartupMock, var startupCpu, var startupMockCpu) = await MeasureStartupAsync(options.StartupRepeats);
    log.WriteLine($"[{total.Elapsed:mm\\:ss}] start to first 200: {string.Join(", ", results.Startup.Select(s => s.ToString("0", CultureInfo.InvariantCulture)))} ms; listening after {string.Join(", ", results.StartupListening.Select(s => s.ToString("0", CultureInfo.InvariantCulture)))} ms; the mock alone: {string.Join(", ", results.StartupMock.Select(s => s.ToString("0", CultureInfo.InvariantCulture)))} ms; CPU used by the first 200: gateway {Load.Median(startupCpu):0} ms, mock {Load.Median(startupMockCpu):0} ms (medians)");

    // ---- idle streams: RSS per stream on a fresh gateway -------------------------------------------------------
    results.Idle = await MeasureIdleStreamsAsync(options.IdleStreams, null);
    log.WriteLine($"[{total.Elapsed:mm\\:ss}] idle streams: {results.Idle}");
    results.IdleServerGc = await MeasureIdleStreamsAsync(options.IdleStreams, new Dictionary<string, string> { ["DOTNET_gcServer"] = "1" });
    log.WriteLine($"[{total.Elapsed:mm\\:ss}] idle streams, Server GC: {results.IdleServerGc}");

    // ---- warm-up -----------------------------------------------------------------------------------------------
    foreach (var t in jsonTargets)
    {
        var errors = await Load.WarmAsync(t, options.Quick ? 1500 : 4000, 8);
        log.WriteLine($"[{total.Elapsed:mm\\:ss}] warmed {t.Name} ({errors} errors)");
    }

    // ---- added latency at fixed rates (open loop) --------------------------------------------------------------
    var processOf = new Dictionary<string, ChildProcess> { [tMock.Name] = mock, [tFalse.Name] = gwFalse, [tTrue.Name] = gwTrue, [tQuiet.Name] = gwQuiet, [tPortkey.Name] = portkey };
    var saturated = new Dictionary<string, double>();
    RunStats Measured(Target t, ChildProcess process, double rate, TimeSpan duration)
    {
        var (cpu0, mock0, az0) = (process.CpuMs(), mock.CpuMs(), azurite.CpuMs());
        var stats = Load.OpenLoop(t, rate, duration);
        var (cpu1, mock1, az1) = (process.CpuMs(), mock.CpuMs(), azurite.CpuMs());
        var n = Math.Max(1, stats.Sent - stats.Errors);
        return stats with
        {
            CpuMsPerRequest = (cpu1 - cpu0) / n,
            MockCpuMsPerRequest = process == mock ? double.NaN : (mock1 - mock0) / n,
            AzuriteCpuMsPerRequest = (az1 - az0) / n,
        };
    }

    // Lets a target (and Azurite behind it) finish what is queued before the next run starts.
    async Task SettleAsync(Target t)
    {
        await Task.Delay(500);
        var sw = Stopwatch.StartNew();
        var fast = 0;
        while (sw.Elapsed < TimeSpan.FromSeconds(20) && fast < 5)
        {
            try
            {
                var (ms, _) = await Load.TimedAsync(t);
                fast = ms < 20 ? fast + 1 : 0;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException)
            {
                fast = 0;
            }
            await Task.Delay(50);
        }
    }

    foreach (var rate in options.Rates)
    {
        for (var round = 0; round < options.Rounds; round++)
        {
            foreach (var t in jsonTargets)
            {
                if (saturated.TryGetValue(t.Name, out var at))
                {
                    continue;
                }
                var stats = Measured(t, processOf[t.Name], rate, options.RunDuration);
                results.Fixed.Add(stats);
                log.WriteLine($"[{total.Elapsed:mm\\:ss}] {rate,5} rps {t.Name,-36} p50 {stats.P50,7:0.000} p90 {stats.P90,7:0.000} p99 {stats.P99,7:0.000} ms  p99(from due) {stats.P99Corrected,7:0.000}  errors {stats.Errors}  achieved {stats.AchievedRate:0}  cpu/req {stats.CpuMsPerRequest:0.000} ms (mock {stats.MockCpuMsPerRequest:0.000}, azurite {stats.AzuriteCpuMsPerRequest:0.000})");
                // A target that is far behind would only queue more at a higher rate and slow the others down.
                if (stats.P50 > 100 || stats.Errors > stats.Sent / 100)
                {
                    saturated[t.Name] = rate;
                    results.Saturated[t.Name] = rate;
                }
                await SettleAsync(t);
            }
        }
    }

    // ---- SSE time to first event -------------------------------------------------------------------------------
    const string SseNative = """{"model":"mock-model","input":"Hello!","stream":true,"store":false}""";
    const string SseChat = """{"model":"chat-model","input":"Hello!","stream":true,"store":false}""";
    var sseTargets = new[]
    {
        new Target("native: mock (direct)", new Uri(mock.BaseUrl, "/v1/responses"), SseNative),
        new Target("native: gateway", new Uri(gwFalse.BaseUrl, "/v1/responses"), SseNative, auth),
        new Target("chat: mock (direct)", new Uri(mock.BaseUrl, "/v1/chat/completions"), """{"model":"chat-model","messages":[{"role":"user","content":"Hello!"}],"stream":true,"stream_options":{"include_usage":true}}"""),
        new Target("chat: gateway", new Uri(gwFalse.BaseUrl, "/v1/responses"), SseChat, auth),
        new Target("native: gateway store:true", new Uri(gwTrue.BaseUrl, "/v1/responses"), """{"model":"mock-model","input":"Hello!","stream":true,"store":true}""", auth),
        new Target("JSON: mock (direct)", new Uri(mock.BaseUrl, "/v1/responses"), JsonFalse),
        new Target("JSON: gateway", new Uri(gwFalse.BaseUrl, "/v1/responses"), JsonFalse, auth),
    };
    results.Sse = await MeasureSseAsync(sseTargets, options.SseRequests);
    foreach (var s in results.Sse)
    {
        log.WriteLine($"[{total.Elapsed:mm\\:ss}] SSE {s.Target,-28} first event p50 {s.FirstP50:0.000} p99 {s.FirstP99:0.000}  whole stream p50 {s.TotalP50:0.000} ms");
    }

    // ---- chain depth -------------------------------------------------------------------------------------------
    // Its own gateway and table: Azurite's in-memory tables answer a PartitionKey query by scanning the whole table,
    // so the store:true table, grown by the load runs, would price the emulator's scan instead of the chain.
    results.Chain = await RunChainAsync("benchchain", new Dictionary<string, string> { ["Authorization"] = "Bearer " + ApiKey });
    results.Storage = await MeasureStorageAsync(connection, "benchchain", results.Chain.DeepTip);
    log.WriteLine($"[{total.Elapsed:mm\\:ss}] storage: {results.Storage}");

    // ---- highest sustainable rate (p99 from the due time < 50 ms) ---------------------------------------------
    foreach (var t in new[] { tMock, tFalse, tTrue, tPortkey })
    {
        var best = (RunStats?)null;
        foreach (var rate in options.RampRates)
        {
            var s = Measured(t, processOf[t.Name], rate, options.RampStep);
            log.WriteLine($"[{total.Elapsed:mm\\:ss}] ramp {t.Name,-24} {rate,6} rps: p99(from due) {s.P99Corrected,8:0.0} ms, errors {s.Errors}, achieved {s.AchievedRate:0}, cpu/req {s.CpuMsPerRequest:0.000} ms");
            await SettleAsync(t);
            if (!s.Sustained(50) && s.P50 < 50)
            {
                // One retry of a narrow miss: on a shared 2-core box a single stall of another process can spoil a p99.
                s = Measured(t, processOf[t.Name], rate, options.RampStep);
                log.WriteLine($"[{total.Elapsed:mm\\:ss}] ramp {t.Name,-24} {rate,6} rps (retry): p99(from due) {s.P99Corrected,8:0.0} ms, errors {s.Errors}, achieved {s.AchievedRate:0}");
                await SettleAsync(t);
            }
            results.Ramp.Add(s);
            if (!s.Sustained(50))
            {
                break;
            }
            best = s;
        }
        results.MaxRate[t.Name] = best?.Rate ?? 0;
    }

    results.Processes = new Dictionary<string, long>
    {
        ["gateway store:false RSS KB after the run"] = gwFalse.RssKb(),
        ["gateway store:true RSS KB after the run"] = gwTrue.RssKb(),
        ["mock RSS KB after the run"] = mock.RssKb(),
        ["portkey RSS KB after the run"] = portkey.RssKb(),
    };
}
finally
{
    foreach (var c in Enumerable.Reverse(children))
    {
        await c.DisposeAsync();
    }
}

results.Machine = Machine.Describe();
results.Machine["measured source"] = options.Source;
results.Benchmarks = options.BdnResults is { } bdn && File.Exists(bdn) ? JsonNode.Parse(File.ReadAllText(bdn)) as JsonArray : null;
results.Elapsed = total.Elapsed;
File.WriteAllText(Path.Combine(options.Out, "results.json"), JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true, IncludeFields = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
var report = Report.Write(results, options);
Console.WriteLine();
Console.WriteLine(report.Table);
Console.WriteLine($"Wrote {options.Doc} in {total.Elapsed:mm\\:ss}.");
return 0;

// ================================================================================================================

ChildProcess Start(string name, string file, Func<int, string[]> arguments, Dictionary<string, string> env, string? workDir = null)
{
    var port = ChildProcess.FreePort();
    if (workDir is not null)
    {
        Directory.CreateDirectory(workDir);
    }
    var child = ChildProcess.Start(name, file, arguments(port), env, port, logs, workDir);
    children.Add(child);
    return child;
}

async Task<string> TryPortkeyStreamAsync(Target target)
{
    try
    {
        var (first, _) = await Load.StreamOnceAsync(target);
        return $"streamed (first event after {first:0.0} ms)";
    }
    catch (Exception e)
    {
        var portkeyLog = Path.Combine(logs, "portkey.log");
        var cause = File.Exists(portkeyLog) ? File.ReadLines(portkeyLog).LastOrDefault(l => l.Contains("error", StringComparison.OrdinalIgnoreCase) && !l.TrimStart().StartsWith("at ", StringComparison.Ordinal)) : null;
        return $"failed: {e.Message.Replace('\n', ' ')}" + (cause is null ? "" : $" — Portkey logged `{cause.Trim()}`");
    }
}

async Task<(List<double> FirstOk, List<double> Listening, List<double> Mock, List<double> CpuMs, List<double> MockCpuMs)> MeasureStartupAsync(int repeats)
{
    var firstOk = new List<double>();
    var listening = new List<double>();
    var mockFirst = new List<double>();
    var cpu = new List<double>();
    var mockCpu = new List<double>();
    var mockPort = children.First(c => c.Name == "mock").Port;
    for (var i = 0; i < repeats; i++)
    {
        // The gateway: the Release apphost, as a deployment would run it.
        var port = ChildProcess.FreePort();
        var (ok, listen, cpuMs) = await TimeToFirstOkAsync(port, () => ChildProcess.Start($"startup-{i}", Path.Combine(options.Server, "ResponsesGateway.Server"), ["--urls", $"http://127.0.0.1:{port}"], GatewayEnvFor(mockPort), port, logs),
            $"http://127.0.0.1:{port}/v1/responses", "Bearer " + ApiKey);
        firstOk.Add(ok);
        listening.Add(listen);
        cpu.Add(cpuMs);
        // A reference on the same machine at the same moment: the mock, a minimal ASP.NET Core app, started the same way.
        var mport = ChildProcess.FreePort();
        var (mockOk, _, mockCpuMs) = await TimeToFirstOkAsync(mport, () => ChildProcess.Start($"startup-mock-{i}", Path.Combine(options.Mock, "ResponsesGateway.MockUpstream"), ["--urls", $"http://127.0.0.1:{mport}"], new Dictionary<string, string>(), mport, logs),
            $"http://127.0.0.1:{mport}/v1/responses", null);
        mockFirst.Add(mockOk);
        mockCpu.Add(mockCpuMs);
    }
    return (firstOk, listening, mockFirst, cpu, mockCpu);
}

// Also the CPU time (user + system) the process had used when its first 200 arrived: less sensitive than the wall
// time to other work on the machine.
static async Task<(double FirstOk, double Listening, double CpuMs)> TimeToFirstOkAsync(int port, Func<ChildProcess> start, string url, string? authorization)
{
    using var client = Target.NewClient();
    var listening = double.NaN;
    var sw = Stopwatch.StartNew();
    var child = start();
    try
    {
        // First the socket (the host has started and Kestrel listens), then the first served request.
        while (sw.Elapsed < TimeSpan.FromSeconds(30) && double.IsNaN(listening))
        {
            using var tcp = new System.Net.Sockets.TcpClient();
            try
            {
                await tcp.ConnectAsync(IPAddress.Loopback, port);
                listening = sw.Elapsed.TotalMilliseconds;
            }
            catch (System.Net.Sockets.SocketException)
            {
                await Task.Delay(2);
            }
        }
        while (sw.Elapsed < TimeSpan.FromSeconds(30))
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, url)
                {
                    Content = new StringContent("""{"model":"mock-model","input":"Hello!","store":false}""", Encoding.UTF8, "application/json"),
                };
                if (authorization is not null)
                {
                    request.Headers.TryAddWithoutValidation("Authorization", authorization);
                }
                using var response = await client.SendAsync(request);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return (sw.Elapsed.TotalMilliseconds, listening, child.CpuMs());
                }
            }
            catch (HttpRequestException)
            {
                // Not ready yet.
            }
            await Task.Delay(5);
        }
        return (double.NaN, listening, double.NaN);
    }
    finally
    {
        await child.DisposeAsync();
    }
}

Dictionary<string, string> GatewayEnvFor(int mockPort) => new()
{
    ["Gateway__ApiKeys__bench"] = ApiKey,
    ["Upstreams__a-native__Kind"] = "responses",
    ["Upstreams__a-native__BaseUrl"] = $"http://127.0.0.1:{mockPort}/v1",
    ["Upstreams__a-native__Models"] = "mock-*",
    ["Storage__ConnectionString"] = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AzuriteKey};TableEndpoint=http://127.0.0.1:{children.First(c => c.Name == "azurite").Port}/devstoreaccount1;",
    ["Storage__TableName"] = "benchstartup",
};

async Task<IdleResult> MeasureIdleStreamsAsync(int count, Dictionary<string, string>? extraEnv)
{
    var port = ChildProcess.FreePort();
    var env = GatewayEnvFor(children.First(c => c.Name == "mock").Port);
    foreach (var (k, v) in extraEnv ?? [])
    {
        env[k] = v;
    }
    var child = ChildProcess.Start("gateway-idle-streams" + (extraEnv is null ? "" : "-variant"), Path.Combine(options.Server, "ResponsesGateway.Server"), ["--urls", $"http://127.0.0.1:{port}"], env, port, logs);
    var opened = new List<(HttpResponseMessage Response, Stream Stream)>();
    using var cancel = new CancellationTokenSource();
    try
    {
        await child.WaitForPortAsync(TimeSpan.FromSeconds(30));
        Dictionary<string, string> headers = new() { ["Authorization"] = "Bearer " + ApiKey };
        var url = new Uri($"http://127.0.0.1:{port}/v1/responses");
        // Warm the process the same way every gateway is used: JSON and SSE requests until steady.
        await Load.WarmAsync(new Target("warm-json", url, """{"model":"mock-model","input":"Hello!","store":false}""", headers), 500, 4);
        var sse = new Target("warm-sse", url, """{"model":"mock-model","input":"Hello!","stream":true,"store":false}""", headers);
        for (var i = 0; i < 200; i++)
        {
            await Load.StreamOnceAsync(sse);
        }
        await Task.Delay(2000);
        var baseline = Load.Median(await SampleAsync(() => child.RssKb()));
        var baseThreads = child.Threads();

        // Streams that stay open: the mock pauses after the first delta for 10 minutes (longer than the test).
        var stall = new Target("idle", url, """{"model":"mock-stall-600000","input":"Hello!","stream":true,"store":false}""", headers);
        var gate = new SemaphoreSlim(64);
        var failures = 0;
        var opening = Enumerable.Range(0, count).Select(async _ =>
        {
            await gate.WaitAsync();
            try
            {
                var request = stall.NewRequest();
                var response = await stall.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
                var stream = await response.Content.ReadAsStreamAsync(cancel.Token);
                if (response.StatusCode != HttpStatusCode.OK || !await Load.ReadFirstEventAsync(stream, cancel.Token))
                {
                    Interlocked.Increment(ref failures);
                }
                lock (opened)
                {
                    opened.Add((response, stream));
                }
            }
            catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
            {
                Interlocked.Increment(ref failures);
            }
            finally
            {
                gate.Release();
            }
        });
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(opening);
        var openSeconds = sw.Elapsed.TotalSeconds;
        await Task.Delay(2000);
        var withStreams = Load.Median(await SampleAsync(() => child.RssKb()));
        var threads = child.Threads();
        var open = opened.Count - failures;
        return new IdleResult(count, open, baseline, withStreams, open > 0 ? (withStreams - baseline) / open : double.NaN, baseThreads, threads, openSeconds);
    }
    finally
    {
        await cancel.CancelAsync();
        foreach (var (response, stream) in opened)
        {
            await stream.DisposeAsync();
            response.Dispose();
        }
        await child.DisposeAsync();
    }
}

static async Task<List<double>> SampleAsync(Func<long> read)
{
    var samples = new List<double>();
    for (var i = 0; i < 5; i++)
    {
        samples.Add(read());
        await Task.Delay(400);
    }
    return samples;
}

async Task<List<SseStats>> MeasureSseAsync(Target[] targets, int rounds)
{
    var first = targets.ToDictionary(t => t.Name, _ => new List<double>());
    var whole = targets.ToDictionary(t => t.Name, _ => new List<double>());
    for (var i = 0; i < 30; i++)
    {
        foreach (var t in targets)
        {
            await Load.StreamOnceAsync(t);
        }
    }
    // Interleaved, one request at a time: each target sees the same background noise.
    for (var i = 0; i < rounds; i++)
    {
        foreach (var t in targets)
        {
            var (f, w) = await Load.StreamOnceAsync(t);
            first[t.Name].Add(double.IsNaN(f) ? w : f); // a JSON body has no event: its first byte is its whole body
            whole[t.Name].Add(w);
        }
    }
    return targets.Select(t =>
    {
        var f = first[t.Name].OrderBy(x => x).ToArray();
        var w = whole[t.Name].OrderBy(x => x).ToArray();
        return new SseStats(t.Name, f.Length, Load.Pct(f, 50), Load.Pct(f, 99), Load.Pct(w, 50), Load.Pct(w, 99));
    }).ToList();
}

async Task<ChainResult> MeasureChainAsync(Uri gateway, Uri uncachedGateway, Target mockTarget, Dictionary<string, string> headers, int rounds, TableClient table)
{
    var g = new Target("chain", gateway, "{}", headers);
    var cold = new Target("chain-uncached", uncachedGateway, "{}", headers);
    var tips = new Dictionary<int, string>();
    var buildMs = new List<double>();
    foreach (var depth in new[] { 1, 10, 100 })
    {
        string? previous = null;
        for (var turn = 1; turn <= depth; turn++)
        {
            var body = new JsonObject { ["model"] = "mock-model", ["input"] = $"Turn {turn}: Hello!", ["store"] = true };
            if (previous is not null)
            {
                body["previous_response_id"] = previous;
            }
            var (ms, text) = await Load.TimedAsync(g, Encoding.UTF8.GetBytes(body.ToJsonString()));
            buildMs.Add(ms);
            previous = (string)JsonNode.Parse(text)!["id"]!;
        }
        tips[depth] = previous!;
    }
    // The upstream sees the expanded chain: give the direct mock call the same number of items, so the mock's own
    // parsing of a longer body is not counted as the gateway's.
    byte[] MockBody(int depth)
    {
        var input = new JsonArray();
        for (var turn = 1; turn <= depth; turn++)
        {
            input.Add(new JsonObject { ["type"] = "message", ["role"] = "user", ["content"] = new JsonArray(new JsonObject { ["type"] = "input_text", ["text"] = $"Turn {turn}: Hello!" }) });
            input.Add(new JsonObject
            {
                ["id"] = "msg_" + Guid.NewGuid().ToString("N"), ["type"] = "message", ["status"] = "completed", ["role"] = "assistant",
                ["content"] = new JsonArray(new JsonObject { ["type"] = "output_text", ["annotations"] = new JsonArray(), ["logprobs"] = new JsonArray(), ["text"] = $"Mock reply to: Turn {turn}: Hello!" }),
            });
        }
        input.Add(new JsonObject { ["type"] = "message", ["role"] = "user", ["content"] = "Fork: Hello!" });
        return Encoding.UTF8.GetBytes(new JsonObject { ["model"] = "mock-model", ["input"] = input, ["store"] = false }.ToJsonString());
    }
    byte[] ForkBody(int depth) => Encoding.UTF8.GetBytes(new JsonObject
    {
        ["model"] = "mock-model", ["input"] = "Fork: Hello!", ["previous_response_id"] = tips[depth], ["store"] = false,
    }.ToJsonString());
    var depths = tips.Keys.ToArray();
    var gw = depths.ToDictionary(d => d, _ => new List<double>());
    var uncached = depths.ToDictionary(d => d, _ => new List<double>());
    var pointRead = depths.ToDictionary(d => d, _ => new List<double>());
    var direct = depths.ToDictionary(d => d, _ => new List<double>());
    var query = depths.ToDictionary(d => d, _ => new List<double>());
    var forkBodies = depths.ToDictionary(d => d, ForkBody);
    var mockBodies = depths.ToDictionary(d => d, MockBody);
    // A fresh process: enough untimed forks first that the tiered JIT has promoted the fork path (call counting
    // needs 30 calls per method and a quiet 100 ms before the background tier-1 compile).
    for (var i = -60; i < rounds; i++)
    {
        foreach (var d in depths)
        {
            var (ms, _) = await Load.TimedAsync(g, forkBodies[d]);
            var (coldMs, _) = await Load.TimedAsync(cold, forkBodies[d]);
            var (mockMs, _) = await Load.TimedAsync(mockTarget, mockBodies[d]);
            // The storage share of a cached chain: the point read of the parent's head row (two columns).
            var p = Stopwatch.GetTimestamp();
            var head = await table.GetEntityIfExistsAsync<TableEntity>(tips[d].Substring("resp_".Length, 32), tips[d], ["Owner", "Deleted"], CancellationToken.None);
            var pointMs = Load.Ms(Stopwatch.GetTimestamp() - p);
            if (!head.HasValue)
            {
                throw new InvalidOperationException($"head row of depth {d} is missing");
            }
            // The storage share: the same one-partition query the store runs (GetChainAsync), straight to Azurite.
            var q = Stopwatch.GetTimestamp();
            var count = 0;
            await foreach (var _ in table.QueryAsync<TableEntity>($"PartitionKey eq '{tips[d].Substring("resp_".Length, 32)}'", cancellationToken: CancellationToken.None))
            {
                count++;
            }
            var queryMs = Load.Ms(Stopwatch.GetTimestamp() - q);
            if (count != d)
            {
                throw new InvalidOperationException($"partition of depth {d}: {count} rows");
            }
            if (i >= 0)
            {
                gw[d].Add(ms);
                uncached[d].Add(coldMs);
                pointRead[d].Add(pointMs);
                direct[d].Add(mockMs);
                query[d].Add(queryMs);
            }
        }
    }
    var rows = depths.Select(d =>
    {
        var a = gw[d].OrderBy(x => x).ToArray();
        var m = direct[d].OrderBy(x => x).ToArray();
        return new ChainDepth(d, (2 * d) + 1, a.Length, Load.Pct(a, 50), Load.Pct(a, 99), Load.Pct(m, 50), mockBodies[d].Length) { QueryP50 = Load.Median(query[d]), PointReadP50 = Load.Median(pointRead[d]), UncachedP50 = Load.Median(uncached[d]) };
    }).ToList();
    return new ChainResult(rows, tips[100], Load.Median(buildMs));
}

static async Task<StorageResult> MeasureStorageAsync(string connection, string table, string deepTip)
{
    var client = new TableClient(connection, table);
    var partition = deepTip.Substring("resp_".Length, 32);
    long payload = 0, properties = 0;
    var rows = 0;
    await foreach (var row in client.QueryAsync<TableEntity>($"PartitionKey eq '{partition}'"))
    {
        rows++;
        properties += Encoding.UTF8.GetByteCount(row.PartitionKey) + Encoding.UTF8.GetByteCount(row.RowKey);
        foreach (var (name, value) in row)
        {
            if (name is "PartitionKey" or "RowKey" or "Timestamp" or "odata.etag")
            {
                continue; // system properties: the keys are counted above, the rest is the service's
            }
            var size = value switch
            {
                byte[] b => b.Length,
                string s => Encoding.UTF8.GetByteCount(s),
                bool => 1,
                _ => 8,
            };
            properties += Encoding.UTF8.GetByteCount(name) + size;
            if (value is byte[] bytes)
            {
                payload += bytes.Length;
            }
        }
    }
    return new StorageResult(rows, payload / (double)rows, properties / (double)rows);
}

// ================================================================================================================

namespace ResponsesGateway.LoadBench
{
    internal sealed class BenchOptions
    {
        public bool Quick { get; private init; }
        public string Repo { get; private init; } = "";
        public string Bench => Path.Combine(Repo, "bench");
        public string Out => Path.Combine(Bench, ".out");
        public string Server { get; private init; } = "";
        public string Mock { get; private init; } = "";
        public string Doc { get; private init; } = "";
        public string? BdnResults { get; private init; }
        public string Command { get; private init; } = "./bench/run.sh";
        public string Source { get; private init; } = "working tree";
        public double[] Rates => [100, 500, 1000, 2000];
        public int Rounds => Quick ? 1 : 3;
        public TimeSpan RunDuration => TimeSpan.FromSeconds(Quick ? 2 : 3);
        public double[] RampRates => Quick ? [250, 500, 1000, 2000, 4000, 6000, 8000] : [250, 500, 750, 1000, 2000, 3000, 4000, 5000, 6000, 8000, 10000];
        public TimeSpan RampStep => TimeSpan.FromSeconds(Quick ? 2 : 3);
        public int SseRequests => Quick ? 100 : 400;
        public int ChainRounds => Quick ? 20 : 60;
        public int IdleStreams => 1000;
        /// <summary><c>--only startup</c>: only the start-up section, printed, no document written.</summary>
        public string? Only { get; private init; }
        public int StartupRepeats { get; private init; }

        public static BenchOptions Parse(string[] args)
        {
            string Arg(string name, string? fallback = null)
            {
                var i = Array.IndexOf(args, name);
                return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback ?? throw new ArgumentException($"missing {name}");
            }
            var repo = Path.GetFullPath(Arg("--repo"));
            if (args.Contains("--only") && Arg("--only") is not ("startup" or "chain" or "telemetry"))
            {
                throw new ArgumentException($"--only {Arg("--only")}: the sections that run alone are startup and chain");
            }
            return new BenchOptions
            {
                Quick = args.Contains("--quick"),
                Repo = repo,
                Server = Path.GetFullPath(Arg("--server")),
                Mock = Path.GetFullPath(Arg("--mock")),
                Doc = Path.GetFullPath(Arg("--doc", Path.Combine(repo, "docs", "benchmarks.md"))),
                BdnResults = args.Contains("--bdn") ? Path.GetFullPath(Arg("--bdn")) : null,
                Command = Arg("--command", "./bench/run.sh"),
                Source = Arg("--source", "working tree"),
                Only = args.Contains("--only") ? Arg("--only") : null,
                StartupRepeats = int.Parse(Arg("--startup-repeats", args.Contains("--quick") ? "3" : "5"), CultureInfo.InvariantCulture),
            };
        }
    }

    internal sealed record IdleResult(int Requested, int Open, double BaselineKb, double WithStreamsKb, double KbPerStream, long BaselineThreads, long Threads, double OpenSeconds);

    internal sealed record SseStats(string Target, int Count, double FirstP50, double FirstP99, double TotalP50, double TotalP99);

    internal sealed record ChainDepth(int Depth, int UpstreamItems, int Count, double GatewayP50, double GatewayP99, double MockP50, int UpstreamBodyBytes)
    {
        public double QueryP50 { get; init; } = double.NaN;

        public double PointReadP50 { get; init; } = double.NaN;

        /// <summary>The same fork on a gateway with <c>Gateway:ChainCacheMegabytes=0</c> (reads the partition).</summary>
        public double UncachedP50 { get; init; } = double.NaN;

        public int Items => UpstreamItems;
    }

    internal sealed record ChainResult(List<ChainDepth> Depths, string DeepTip, double BuildTurnMedianMs);

    internal sealed record StorageResult(int Rows, double PayloadBytesPerTurn, double PropertyBytesPerTurn);

    internal sealed class Results
    {
        public bool Quick { get; set; }
        public string Command { get; set; } = "";
        public Dictionary<string, string> Machine { get; set; } = [];
        public List<RunStats> Fixed { get; } = [];
        public List<RunStats> Ramp { get; } = [];
        public Dictionary<string, double> MaxRate { get; } = [];
        public List<SseStats> Sse { get; set; } = [];
        public IdleResult? Idle { get; set; }
        public IdleResult? IdleServerGc { get; set; }
        public Dictionary<string, double> Saturated { get; } = [];
        public List<double> StartupListening { get; set; } = [];
        public List<double> StartupMock { get; set; } = [];
        public ChainResult? Chain { get; set; }
        public StorageResult? Storage { get; set; }
        public List<double> Startup { get; set; } = [];
        public string PortkeyStream { get; set; } = "";
        public Dictionary<string, long> Processes { get; set; } = [];
        public JsonArray? Benchmarks { get; set; }
        public TimeSpan Elapsed { get; set; }
    }

    internal static class Machine
    {
        public static Dictionary<string, string> Describe()
        {
            string Run(string file, string arguments)
            {
                try
                {
                    using var p = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
                    var text = p.StandardOutput.ReadToEnd().Trim();
                    p.WaitForExit();
                    return text;
                }
                catch (System.ComponentModel.Win32Exception)
                {
                    return "(not found)";
                }
            }
            var memKb = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
            var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
            return new Dictionary<string, string>
            {
                ["date (UTC)"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
                ["nproc"] = Run("nproc", ""),
                ["CPU"] = cpu,
                ["memory"] = $"{long.Parse(memKb, CultureInfo.InvariantCulture) / 1024.0 / 1024.0:0.0} GiB",
                [".NET SDK"] = Run("dotnet", "--version"),
                [".NET runtime"] = Environment.Version.ToString(),
                ["Node"] = Run("node", "--version"),
                ["OS"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
                ["load average at the end"] = File.ReadAllText("/proc/loadavg").Trim(),
            };
        }
    }
}
