using System.Collections.Concurrent;
using System.Threading.Channels;
using Grpc.Core;
using ResponsesGateway.Tests.FunctionsHost.Rpc;

namespace ResponsesGateway.Tests.FunctionsHost;

/// <summary>
/// The host's end of the worker's event stream, in the order the Functions host drives it: the worker says
/// StartStream; the host sends WorkerInitRequest; the worker answers with its capabilities (with ASP.NET Core
/// integration, <c>HttpUri</c>: where its own Kestrel listens); the host asks for the function metadata and loads each
/// function. Then invocations go out and their results come back, matched by invocation id.
/// </summary>
internal sealed class WorkerChannel(string appDirectory)
{
    private readonly Channel<StreamingMessage> _outbound = Channel.CreateUnbounded<StreamingMessage>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource<IReadOnlyList<RpcFunctionMetadata>> _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<InvocationResponse>> _invocations = new();
    private List<RpcFunctionMetadata> _functions = [];
    private int _pendingLoads;

    /// <summary>The worker's RpcLog messages and protocol notes, for a failing test's message.</summary>
    public ConcurrentQueue<string> Log { get; } = new();

    /// <summary>The worker's <c>HttpUri</c> capability.</summary>
    public Uri? HttpUri { get; private set; }

    /// <summary>Completes with the functions once every one of them is loaded.</summary>
    public Task<IReadOnlyList<RpcFunctionMetadata>> Loaded => _loaded.Task;

    public async Task RunAsync(IAsyncStreamReader<StreamingMessage> input, IServerStreamWriter<StreamingMessage> output, CancellationToken cancellationToken)
    {
        // A gRPC stream takes one write at a time: every outgoing message goes through this one loop.
        var writer = Task.Run(async () =>
        {
            await foreach (var message in _outbound.Reader.ReadAllAsync(cancellationToken))
            {
                await output.WriteAsync(message, cancellationToken);
            }
        }, cancellationToken);
        try
        {
            await foreach (var message in input.ReadAllAsync(cancellationToken))
            {
                Handle(message);
            }
        }
        finally
        {
            _outbound.Writer.TryComplete();
            var closed = new IOException("The worker's event stream closed.");
            _loaded.TrySetException(closed);
            foreach (var pending in _invocations.Values)
            {
                pending.TrySetException(closed);
            }
            await writer.ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    public Task<InvocationResponse> InvokeAsync(InvocationRequest request)
    {
        var result = new TaskCompletionSource<InvocationResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        _invocations[request.InvocationId] = result;
        Send(new StreamingMessage { InvocationRequest = request });
        return result.Task;
    }

    public void Terminate(TimeSpan gracePeriod) =>
        Send(new StreamingMessage { WorkerTerminate = new WorkerTerminate { GracePeriod = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(gracePeriod) } });

    private void Handle(StreamingMessage message)
    {
        switch (message.ContentCase)
        {
            case StreamingMessage.ContentOneofCase.StartStream:
                Send(new StreamingMessage
                {
                    WorkerInitRequest = new WorkerInitRequest
                    {
                        HostVersion = "4.0.0-standin",
                        FunctionAppDirectory = appDirectory,
                        WorkerDirectory = appDirectory,
                    },
                });
                break;

            case StreamingMessage.ContentOneofCase.WorkerInitResponse:
                var init = message.WorkerInitResponse;
                if (!Succeeded(init.Result, "WorkerInitResponse"))
                {
                    return;
                }
                if (init.Capabilities.TryGetValue("HttpUri", out var uri))
                {
                    HttpUri = new Uri(uri);
                }
                Log.Enqueue("worker capabilities: " + string.Join(", ", init.Capabilities.Select(c => $"{c.Key}={c.Value}")));
                Send(new StreamingMessage { FunctionsMetadataRequest = new FunctionsMetadataRequest { FunctionAppDirectory = appDirectory } });
                break;

            case StreamingMessage.ContentOneofCase.FunctionMetadataResponse:
                var metadata = message.FunctionMetadataResponse;
                if (!Succeeded(metadata.Result, "FunctionMetadataResponse"))
                {
                    return;
                }
                _functions = [.. metadata.FunctionMetadataResults];
                _pendingLoads = _functions.Count;
                foreach (var function in _functions)
                {
                    if (function.FunctionId.Length == 0)
                    {
                        // The host names a function the worker left without an id.
                        function.FunctionId = Guid.NewGuid().ToString();
                    }
                    Send(new StreamingMessage { FunctionLoadRequest = new FunctionLoadRequest { FunctionId = function.FunctionId, Metadata = function } });
                }
                break;

            case StreamingMessage.ContentOneofCase.FunctionLoadResponse:
                if (Succeeded(message.FunctionLoadResponse.Result, "FunctionLoadResponse " + message.FunctionLoadResponse.FunctionId)
                    && Interlocked.Decrement(ref _pendingLoads) == 0)
                {
                    _loaded.TrySetResult(_functions);
                }
                break;

            case StreamingMessage.ContentOneofCase.InvocationResponse:
                if (_invocations.TryRemove(message.InvocationResponse.InvocationId, out var pending))
                {
                    pending.TrySetResult(message.InvocationResponse);
                }
                break;

            case StreamingMessage.ContentOneofCase.RpcLog:
                var log = message.RpcLog;
                Log.Enqueue($"{log.Level} {log.Category}: {log.Message} {log.Exception?.Message}");
                break;

            default:
                Log.Enqueue("ignored message: " + message.ContentCase);
                break;
        }
    }

    private bool Succeeded(StatusResult? result, string what)
    {
        if (result is { Status: StatusResult.Types.Status.Success })
        {
            return true;
        }
        _loaded.TrySetException(new InvalidOperationException($"{what} failed: {result?.Exception?.Message ?? result?.Result}"));
        return false;
    }

    private void Send(StreamingMessage message) => _outbound.Writer.TryWrite(message);
}

/// <summary>The gRPC service the worker connects to; the one stream it opens is handed to the channel.</summary>
internal sealed class FunctionRpcService(WorkerChannel channel) : FunctionRpc.FunctionRpcBase
{
    public override Task EventStream(IAsyncStreamReader<StreamingMessage> requestStream, IServerStreamWriter<StreamingMessage> responseStream, ServerCallContext context) =>
        channel.RunAsync(requestStream, responseStream, context.CancellationToken);
}
