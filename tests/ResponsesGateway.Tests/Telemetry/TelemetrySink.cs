using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ResponsesGateway.Tests.Telemetry;

/// <summary>
/// A collector on 127.0.0.1 that accepts what the exporters send, OTLP/HTTP (<c>/v1/traces</c>, <c>/v1/metrics</c>)
/// and Application Insights ingestion (<c>/v2.1/track</c>), and keeps every body (un-gzipped) for the tests to read.
/// </summary>
public sealed class TelemetrySink : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<(string Path, byte[] Body)> _received = new();

    private TelemetrySink(WebApplication app) => _app = app;

    public Uri BaseUrl { get; private set; } = null!;

    public static async Task<TelemetrySink> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var sink = new TelemetrySink(app);
        app.Run(sink.HandleAsync);
        await app.StartAsync();
        sink.BaseUrl = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return sink;
    }

    /// <summary>Waits until a body sent to <paramref name="path"/> satisfies <paramref name="match"/>.</summary>
    public async Task<byte[]?> WaitForAsync(string path, Func<byte[], bool> match, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            foreach (var (p, body) in _received)
            {
                if (p == path && match(body))
                {
                    return body;
                }
            }
            await Task.Delay(50);
        }
        return null;
    }

    public IReadOnlyList<string> Paths => _received.Select(r => r.Path).ToList();

    /// <summary>What arrived, for a failure message: each path with the start of its body.</summary>
    public string Describe(int chars = 600) => string.Join("\n", _received.Select(r => $"{r.Path}: {System.Text.Encoding.UTF8.GetString(r.Body.AsSpan(0, Math.Min(chars, r.Body.Length)))}"));

    private async Task HandleAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        var body = context.Request.Headers.ContentEncoding == "gzip"
            ? new GZipStream(context.Request.Body, CompressionMode.Decompress)
            : context.Request.Body;
        await body.CopyToAsync(buffer, context.RequestAborted);
        _received.Enqueue((context.Request.Path.Value ?? "", buffer.ToArray()));
        if (context.Request.Path.StartsWithSegments("/v2.1/track"))
        {
            // Newline-delimited envelopes: all of them accepted, as ingestion answers (a short count reads as a partial failure).
            var items = System.Text.Encoding.UTF8.GetString(buffer.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync($$"""{"itemsReceived":{{items}},"itemsAccepted":{{items}},"errors":[]}""");
        }
        else
        {
            context.Response.ContentType = "application/x-protobuf";
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
