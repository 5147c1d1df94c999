using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ResponsesGateway.Tests.Reliability;

/// <summary>
/// An upstream on 127.0.0.1 that answers each request with the next scripted step (a status, a reset, a long stream),
/// and forwards to the mock upstream once the script is used up. The mock misbehaves the same way on every call;
/// retries and fallbacks need an upstream that fails first and then recovers.
/// </summary>
public sealed class ScriptedUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Func<HttpContext, Task>> _script = new();
    private readonly HttpClient _forward = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false });
    private readonly Uri _target;
    private int _requests;
    private long _bytesWritten;

    private ScriptedUpstream(WebApplication app, Uri target)
    {
        _app = app;
        _target = target;
    }

    /// <summary><c>http://127.0.0.1:{port}/v1</c>.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>Requests received so far, scripted or forwarded.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Body bytes written by <see cref="LongStream"/> steps so far.</summary>
    public long BytesWritten => Interlocked.Read(ref _bytesWritten);

    /// <summary>What happens once the script is used up; forwards to the mock unless replaced.</summary>
    public Func<HttpContext, Task>? Default { get; set; }

    /// <summary>Starts on a free loopback port, forwarding to <paramref name="target"/> (the mock's <c>/v1</c> base URL).</summary>
    public static async Task<ScriptedUpstream> StartAsync(Uri target)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new ScriptedUpstream(app, target);
        app.Run(server.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseUrl = new Uri(address.TrimEnd('/') + "/v1");
        return server;
    }

    /// <summary>Appends steps: request n (from now) gets step n.</summary>
    public void Enqueue(params Func<HttpContext, Task>[] steps)
    {
        foreach (var step in steps)
        {
            _script.Enqueue(step);
        }
    }

    /// <summary>An error status with OpenAI's envelope, optionally with <c>Retry-After</c>.</summary>
    public static Func<HttpContext, Task> Status(int status, int? retryAfterSeconds = null) => async context =>
    {
        context.Response.StatusCode = status;
        if (retryAfterSeconds is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync($$$"""{"error":{"message":"scripted {{{status}}}","type":"server_error","param":null,"code":null}}""");
    };

    /// <summary>Drops the connection before any response byte (a reset as the client sees it).</summary>
    public static Func<HttpContext, Task> Reset() => context =>
    {
        context.Abort();
        return Task.CompletedTask;
    };

    /// <summary>
    /// A well-formed Responses stream of one message whose text comes in <paramref name="deltas"/> deltas of
    /// <paramref name="deltaChars"/> characters, written as fast as the reader takes it (counted in <see cref="BytesWritten"/>).
    /// </summary>
    public Func<HttpContext, Task> LongStream(int deltas, int deltaChars) => async context =>
    {
        var ct = context.RequestAborted;
        context.Response.ContentType = "text/event-stream";
        var text = new string('x', deltaChars);
        async Task Send(string type, string json)
        {
            var bytes = Encoding.UTF8.GetBytes($"event: {type}\ndata: {json}\n\n");
            await context.Response.Body.WriteAsync(bytes, ct);
            Interlocked.Add(ref _bytesWritten, bytes.Length);
        }
        const string response = """{"id":"resp_long","object":"response","created_at":1,"status":"in_progress","model":"long","output":[]}""";
        try
        {
            await Send("response.created", $$"""{"type":"response.created","response":{{response}}}""");
            await Send("response.output_item.added", """{"type":"response.output_item.added","output_index":0,"item":{"id":"msg_long","type":"message","status":"in_progress","role":"assistant","content":[]}}""");
            await Send("response.content_part.added", """{"type":"response.content_part.added","item_id":"msg_long","output_index":0,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}}""");
            for (var i = 0; i < deltas; i++)
            {
                await Send("response.output_text.delta", $$"""{"type":"response.output_text.delta","item_id":"msg_long","output_index":0,"content_index":0,"delta":"{{text}}"}""");
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The reader went away: that is the point of the tests that use this.
        }
    };

    private async Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref _requests);
        var step = _script.TryDequeue(out var scripted) ? scripted : Default ?? ForwardAsync;
        await step(context);
    }

    private async Task ForwardAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        var path = context.Request.Path.Value!.StartsWith("/v1", StringComparison.Ordinal) ? context.Request.Path.Value[3..] : context.Request.Path.Value;
        using var request = new HttpRequestMessage(HttpMethod.Post, _target + path) { Content = new ByteArrayContent(body.ToArray()) };
        request.Content.Headers.ContentType = new("application/json");
        using var response = await _forward.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        context.Response.ContentType = response.Content.Headers.ContentType?.ToString();
        await using var stream = await response.Content.ReadAsStreamAsync(context.RequestAborted);
        await stream.CopyToAsync(context.Response.Body, context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _forward.Dispose();
    }
}
