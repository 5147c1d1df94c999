using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using ResponsesGateway.Core.Options;
using ResponsesGateway.Core.Requests;
using ResponsesGateway.Core.Resilience;
using ResponsesGateway.Core.Routing;
using ResponsesGateway.Core.Upstreams;

namespace ResponsesGateway.Tests.Reliability;

/// <summary>The retry and fallback rules of <see cref="UpstreamCaller"/>, with upstreams that fail on cue.</summary>
public sealed class UpstreamCallerTests
{
    private static readonly GatewayOptions Fast = new() { UpstreamMaxRetries = 2, UpstreamRetryDelaySeconds = 0.01, UpstreamMaxRetryDelaySeconds = 1 };

    [Fact]
    public async Task ConnectFailures_AreRetried()
    {
        var upstream = new FakeUpstream("a", new UpstreamException(UpstreamFailure.Connect, "refused"), new UpstreamException(UpstreamFailure.Connect, "refused"));

        await Caller().CreateAsync(new ModelRoute(upstream, "m"), Request(), CancellationToken.None);

        Assert.Equal(3, upstream.Calls);
    }

    [Theory]
    [InlineData(UpstreamFailure.Timeout, null)] // first byte: slow, not gone
    [InlineData(UpstreamFailure.StreamInterrupted, null)] // the upstream may be running the request
    [InlineData(UpstreamFailure.BadStatus, 400)]
    [InlineData(UpstreamFailure.BadStatus, 501)]
    public async Task OtherFailures_AreNotRetried(UpstreamFailure failure, int? status)
    {
        var upstream = new FakeUpstream("a", new UpstreamException(failure, "no") { StatusCode = status });

        await Assert.ThrowsAsync<UpstreamCallFailedException>(() => Caller().CreateAsync(new ModelRoute(upstream, "m"), Request(), CancellationToken.None));

        Assert.Equal(1, upstream.Calls);
    }

    [Fact]
    public async Task Stream_FailingAfterItsFirstEvent_IsNotRetried()
    {
        var upstream = new FakeUpstream("a") { FailAfterFirstEvent = true };

        await using var opened = await Caller().OpenStreamAsync(new ModelRoute(upstream, "m"), Request(), CancellationToken.None);

        await Assert.ThrowsAsync<UpstreamException>(async () => await opened.Events.MoveNextAsync());
        Assert.Equal(1, upstream.Calls);
    }

    [Fact]
    public async Task Fallback_GetsItsOwnModelName_AndAnUntouchedBody()
    {
        var primary = new FakeUpstream("a", Enumerable.Repeat(new UpstreamException(UpstreamFailure.BadStatus, "busy") { StatusCode = 503 }, 3).ToArray()) { Scribble = true };
        var backup = new FakeUpstream("b");
        var route = new ModelRoute(primary, "primary-model") { Fallback = new ModelRoute(backup, "backup-model") };

        await using var opened = await Caller().OpenStreamAsync(route, Request(), CancellationToken.None);

        Assert.Same(backup, opened.Upstream);
        Assert.Equal(3, primary.Calls);
        Assert.Equal("backup-model", (string?)backup.LastBody!["model"]);
        Assert.False(backup.LastBody.ContainsKey("scribbled"));
    }

    private static UpstreamCaller Caller() => new(Fast, TimeProvider.System, NullLogger.Instance);

    private static UpstreamRequest Request() =>
        new(new JsonObject { ["model"] = "primary-model", ["input"] = "x" }, CreateResponseRequestParser.Parse("""{"model":"m","input":"x"}"""u8.ToArray()), "resp_test", 1);

    private sealed class FakeUpstream(string name, params UpstreamException[] failures) : IUpstream
    {
        private int _calls;

        public string Name { get; } = name;

        public int Calls => _calls;

        public bool FailAfterFirstEvent { get; init; }

        /// <summary>Changes the body it is given, as adapters may.</summary>
        public bool Scribble { get; init; }

        public JsonObject? LastBody { get; private set; }

        public Task<JsonObject> CreateAsync(UpstreamRequest request, CancellationToken cancellationToken)
        {
            Call(request);
            return Task.FromResult(new JsonObject { ["status"] = "completed" });
        }

        public Task<JsonObject> CountInputTokensAsync(UpstreamRequest request, CancellationToken cancellationToken)
        {
            Call(request);
            return Task.FromResult(new JsonObject { ["object"] = "response.input_tokens", ["input_tokens"] = 1 });
        }

        public Task<JsonObject> CompactAsync(UpstreamRequest request, CancellationToken cancellationToken)
        {
            Call(request);
            return Task.FromResult(new JsonObject { ["object"] = "response.compaction" });
        }

        public async IAsyncEnumerable<JsonObject> StreamAsync(UpstreamRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.Yield();
            Call(request);
            yield return new JsonObject { ["type"] = "response.created" };
            if (FailAfterFirstEvent)
            {
                throw new UpstreamException(UpstreamFailure.StreamInterrupted, "cut");
            }
        }

        private void Call(UpstreamRequest request)
        {
            var call = Interlocked.Increment(ref _calls);
            LastBody = request.Body;
            if (Scribble)
            {
                request.Body["scribbled"] = true;
            }
            if (call <= failures.Length)
            {
                throw failures[call - 1];
            }
        }
    }
}
