using System.Text.Json;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters;
using Perfolizer.Horology;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using ResponsesGateway.Benchmarks;

// Usage: ResponsesGateway.Benchmarks [--quick] [--artifacts <dir>] [--json <file>] [--filter <class name part>]
// In-process toolchain: the benchmarks start a Kestrel server and a mock in this process; a short job is enough for
// allocation figures, which do not depend on the iteration count.
var quick = args.Contains("--quick");
string? Arg(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;

var job = Job.Default
    .WithToolchain(InProcessEmitToolchain.Instance)
    .WithLaunchCount(1)
    .WithWarmupCount(quick ? 2 : 4)
    .WithIterationCount(quick ? 4 : 8)
    .WithIterationTime(TimeInterval.FromMilliseconds(quick ? 100 : 250))
    .WithId(quick ? "quick" : "short");
var config = ManualConfig.CreateEmpty()
    .AddJob(job)
    .AddDiagnoser(MemoryDiagnoser.Default)
    .AddColumnProvider(DefaultColumnProviders.Instance)
    .AddLogger(ConsoleLogger.Default)
    .AddExporter(MarkdownExporter.GitHub)
    .WithArtifactsPath(Arg("--artifacts") ?? Path.Combine(Environment.CurrentDirectory, "BenchmarkDotNet.Artifacts"))
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);

Type[] classes = [typeof(ServerBenchmarks), typeof(UpstreamBenchmarks)];
var filter = Arg("--filter");
var summaries = BenchmarkRunner.Run(
    filter is null ? classes : [.. classes.Where(t => t.Name.Contains(filter, StringComparison.OrdinalIgnoreCase))], config);

var what = new Dictionary<string, string>
{
    ["ServerJson"] = "POST /v1/responses JSON through the in-process server (in-memory upstream, no-op store)",
    ["ServerSse"] = "the same reply streamed as SSE",
    ["StubJson"] = "the in-memory upstream alone: parse the recorded JSON reply",
    ["StubEvents"] = "the in-memory upstream alone: parse the recorded events",
    ["StreamNative"] = "native Responses adapter reading the recorded SSE reply (in-memory handler)",
    ["StreamChat"] = "Chat Completions adapter: request mapping + chat translator over the recorded chat SSE",
    ["JsonNative"] = "native Responses adapter, JSON reply",
    ["JsonChat"] = "Chat Completions adapter + translator, JSON reply",
};
var rows = new JsonArray();
foreach (var summary in summaries)
{
    foreach (var report in summary.Reports)
    {
        var name = report.BenchmarkCase.Descriptor.WorkloadMethod.Name;
        var row = new JsonObject
        {
            ["name"] = name,
            ["what"] = what.GetValueOrDefault(name, report.BenchmarkCase.Descriptor.WorkloadMethodDisplayInfo),
            ["meanUs"] = (report.ResultStatistics?.Mean ?? double.NaN) / 1000.0,
            ["allocatedBytes"] = report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase) ?? -1,
        };
        if (name == "ServerSse")
        {
            row["events"] = ServerBenchmarks.EventsPerStream;
        }
        if (name.StartsWith("Stream", StringComparison.Ordinal))
        {
            row["events"] = UpstreamBenchmarks.EventsPerStream;
        }
        rows.Add(row);
    }
}
var output = rows.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
Console.WriteLine(output);
if (Arg("--json") is { } file)
{
    File.WriteAllText(file, output);
}
return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
