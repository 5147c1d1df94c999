using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ResponsesGateway.Tests.FunctionsHost.Rpc;
using Yarp.ReverseProxy.Forwarder;

namespace ResponsesGateway.Tests.FunctionsHost;

/// <summary>
/// A small stand-in for the Azure Functions host, enough to run the real ResponsesGateway.Functions worker the way
/// the host does (Core Tools cannot be installed here): a gRPC server for the worker's event stream, the worker
/// process started with the host's command line, and an HTTP front end on loopback that routes each request to its
/// function, forwards it to the worker's own Kestrel with the <c>x-ms-invocation-id</c> header (streamed both ways,
/// with YARP as the host does) and sends the matching InvocationRequest over gRPC. Timer functions are invoked on
/// demand with <see cref="InvokeTimerAsync"/>, queue functions with a message with <see cref="InvokeQueueAsync"/>.
/// </summary>
public sealed class FunctionsHostStandIn : IAsyncDisposable
{
    // The host forwards with a 240 s activity timeout: an idle stream without keep-alives is cut after it.
    private static readonly ForwarderRequestConfig ForwardConfig = new() { ActivityTimeout = TimeSpan.FromSeconds(240) };
    private static readonly TimeSpan InvocationTimeout = TimeSpan.FromSeconds(120);

    private readonly WebApplication _grpc;
    private readonly WorkerChannel _channel;
    private readonly WorkerProcess _worker;
    private readonly HttpMessageInvoker _toWorker = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(10),
    });
    private WebApplication? _front;
    private HttpFunctionRoutes? _routes;

    private FunctionsHostStandIn(WebApplication grpc, WorkerChannel channel, WorkerProcess worker)
    {
        _grpc = grpc;
        _channel = channel;
        _worker = worker;
    }

    /// <summary>The front end, e.g. <c>http://127.0.0.1:5123</c>: what a client of the Functions app talks to.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>The functions the worker reported and the host loaded.</summary>
    public IReadOnlyList<string> FunctionNames { get; private set; } = [];

    /// <summary>What the worker logged (gRPC RpcLog, stdout, stderr): put it in a failing assertion's message.</summary>
    public string Diagnostics => string.Join('\n', _channel.Log.Concat(_worker.Output).TakeLast(200));

    /// <summary>Starts the gRPC endpoint, the worker (app settings as environment variables) and the front end.</summary>
    public static async Task<FunctionsHostStandIn> StartAsync(string appDirectory, IReadOnlyDictionary<string, string> appSettings)
    {
        var channel = new WorkerChannel(appDirectory);
        var grpcBuilder = WebApplication.CreateSlimBuilder();
        grpcBuilder.Logging.SetMinimumLevel(LogLevel.Warning);
        grpcBuilder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        grpcBuilder.Services.AddGrpc(o => o.MaxReceiveMessageSize = null);
        grpcBuilder.Services.AddSingleton(channel);
        var grpc = grpcBuilder.Build();
        grpc.MapGrpcService<FunctionRpcService>();
        await grpc.StartAsync();

        var worker = WorkerProcess.Start(appDirectory, Address(grpc), appSettings);
        var host = new FunctionsHostStandIn(grpc, channel, worker);
        try
        {
            await host.WaitForWorkerAsync(appDirectory);
            await host.StartFrontEndAsync();
            return host;
        }
        catch (Exception e)
        {
            var diagnostics = host.Diagnostics;
            await host.DisposeAsync();
            throw new InvalidOperationException("The Functions worker did not start under the stand-in host:\n" + diagnostics, e);
        }
    }

    /// <summary>Invokes a timer-triggered function once, as the host does when its schedule fires.</summary>
    public async Task<InvocationResponse> InvokeTimerAsync(string functionName)
    {
        var function = (await _channel.Loaded).Single(f => f.Name == functionName);
        var trigger = function.Bindings.Single(b => b.Value.Type.Equals("timerTrigger", StringComparison.OrdinalIgnoreCase)).Key;
        var now = DateTimeOffset.UtcNow;
        var timerInfo = new JsonObject
        {
            ["Schedule"] = new JsonObject { ["AdjustForDST"] = true },
            ["ScheduleStatus"] = new JsonObject { ["Last"] = now.AddHours(-1).ToString("O"), ["Next"] = now.AddHours(1).ToString("O"), ["LastUpdated"] = now.ToString("O") },
            ["IsPastDue"] = false,
        };
        var request = NewInvocation(function.FunctionId);
        request.InputData.Add(new ParameterBinding { Name = trigger, Data = new TypedData { Json = timerInfo.ToJsonString() } });
        return await _channel.InvokeAsync(request).WaitAsync(InvocationTimeout);
    }

    /// <summary>
    /// Invokes a queue-triggered function with one message, as the host does when its queue listener dequeues it (the
    /// message text as the trigger's string data, and the trigger metadata the host adds).
    /// </summary>
    public async Task<InvocationResponse> InvokeQueueAsync(string functionName, string message, long dequeueCount = 1)
    {
        var function = (await _channel.Loaded).Single(f => f.Name == functionName);
        var trigger = function.Bindings.Single(b => b.Value.Type.Equals("queueTrigger", StringComparison.OrdinalIgnoreCase)).Key;
        var request = NewInvocation(function.FunctionId);
        request.InputData.Add(new ParameterBinding { Name = trigger, Data = new TypedData { String = message } });
        request.TriggerMetadata["DequeueCount"] = new TypedData { Json = dequeueCount.ToString(CultureInfo.InvariantCulture) };
        request.TriggerMetadata["Id"] = new TypedData { String = Guid.NewGuid().ToString() };
        return await _channel.InvokeAsync(request).WaitAsync(InvocationTimeout);
    }

    /// <summary>
    /// Stops the worker as the host does on scale-in or deployment: a WorkerTerminate message, then up to
    /// <paramref name="grace"/> for the process to leave by itself before it is killed. The front end stays up, so
    /// responses already being forwarded go on to their end.
    /// </summary>
    public async Task StopWorkerAsync(TimeSpan grace)
    {
        if (!_worker.HasExited)
        {
            _channel.Terminate(grace);
            await _worker.StopAsync(grace);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopWorkerAsync(TimeSpan.FromSeconds(10));
        await _worker.DisposeAsync();
        if (_front is not null)
        {
            await _front.StopAsync();
            await _front.DisposeAsync();
        }
        await _grpc.StopAsync();
        await _grpc.DisposeAsync();
        _toWorker.Dispose();
    }

    private async Task WaitForWorkerAsync(string appDirectory)
    {
        var functions = await _channel.Loaded.WaitAsync(TimeSpan.FromSeconds(60));
        FunctionNames = [.. functions.Select(f => f.Name)];
        _routes = new HttpFunctionRoutes(functions, RoutePrefix(appDirectory));
        var httpUri = _channel.HttpUri ?? throw new InvalidOperationException("The worker did not report an HttpUri capability (ASP.NET Core integration).");

        // The worker reports its URI before its Kestrel is surely listening; the host's first forward would retry.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(httpUri.Host, httpUri.Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !_worker.HasExited)
            {
                await Task.Delay(100);
            }
        }
    }

    private async Task StartFrontEndAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0);
            // FUNCTIONS_REQUEST_BODY_SIZE_LIMIT's default.
            k.Limits.MaxRequestBodySize = 104_857_600;
        });
        builder.Services.AddHttpForwarder();
        _front = builder.Build();
        var forwarder = _front.Services.GetRequiredService<IHttpForwarder>();
        _front.Run(context => InvokeHttpFunctionAsync(context, forwarder));
        await _front.StartAsync();
        BaseUrl = Address(_front);
    }

    private async Task InvokeHttpFunctionAsync(HttpContext context, IHttpForwarder forwarder)
    {
        var match = _routes!.Match(context.Request.Method, context.Request.Path);
        if (match is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var request = NewInvocation(match.Route.Function.FunctionId);
        var invocationId = request.InvocationId;
        // With HTTP proxying the trigger input is an empty RpcHttp carrying only the route parameters; the parameters
        // are also trigger metadata, which is where the worker binds a function's plain parameters (e.g. "id") from.
        var http = new RpcHttp();
        foreach (var (name, value) in match.Values)
        {
            var text = Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
            http.Params[name] = text;
            request.TriggerMetadata[name] = new TypedData { String = text };
        }
        request.InputData.Add(new ParameterBinding { Name = match.Route.TriggerName, Data = new TypedData { Http = http } });

        // As the host: start forwarding first, then send the invocation; the worker pairs them by the invocation id.
        var forwarding = forwarder.SendAsync(context, _channel.HttpUri!.ToString(), _toWorker, ForwardConfig,
            (_, proxyRequest) =>
            {
                proxyRequest.Headers.TryAddWithoutValidation("x-ms-invocation-id", invocationId);
                return ValueTask.CompletedTask;
            });
        var invocation = _channel.InvokeAsync(request);

        var error = await forwarding;
        InvocationResponse? result = null;
        try
        {
            result = await invocation.WaitAsync(InvocationTimeout);
        }
        catch (Exception e) when (e is TimeoutException or IOException)
        {
            _channel.Log.Enqueue($"invocation {invocationId} ({match.Route.Function.Name}) has no result: {e.Message}");
        }
        if (result?.Result.Status != StatusResult.Types.Status.Success || error != ForwarderError.None)
        {
            _channel.Log.Enqueue($"invocation {invocationId} ({match.Route.Function.Name}): forward {error}, result {result?.Result.Status} {result?.Result.Exception?.Message} {result?.Result.Exception?.StackTrace}");
            if (!context.Response.HasStarted)
            {
                context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            }
        }
    }

    /// <summary>An invocation as the host starts one: a new id and the W3C trace context the worker continues.</summary>
    private static InvocationRequest NewInvocation(string functionId)
    {
        var traceParent = System.Diagnostics.Activity.Current?.Id
            ?? $"00-{System.Diagnostics.ActivityTraceId.CreateRandom()}-{System.Diagnostics.ActivitySpanId.CreateRandom()}-01";
        return new InvocationRequest
        {
            InvocationId = Guid.NewGuid().ToString(),
            FunctionId = functionId,
            TraceContext = new RpcTraceContext { TraceParent = traceParent, TraceState = "" },
        };
    }

    private static string RoutePrefix(string appDirectory)
    {
        var hostJson = JsonNode.Parse(File.ReadAllText(Path.Combine(appDirectory, "host.json")))!;
        return ((string?)hostJson["extensions"]?["http"]?["routePrefix"] ?? "api").Trim('/');
    }

    private static Uri Address(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
}
