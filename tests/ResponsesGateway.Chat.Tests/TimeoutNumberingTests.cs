using System.Text.Json.Nodes;
using ResponsesGateway.Core.Pipeline;
using ResponsesGateway.Core.Responses;
using ResponsesGateway.Upstreams.Chat.Tests.Infrastructure;

namespace ResponsesGateway.Upstreams.Chat.Tests;

/// <summary>
/// The request's time runs out between two events: the event that was about to go out is not sent, and the closing
/// events and <c>response.failed</c> that follow keep the numbering dense (no number is spent on an unsent event).
/// </summary>
public sealed class TimeoutNumberingTests
{
    [Fact]
    public async Task TimeoutBetweenTwoEvents_LeavesNoGapInTheSequence()
    {
        var chunks = new[]
        {
            """{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"one"},"finish_reason":null}]}""",
            """{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":" two"},"finish_reason":null}]}""",
            """{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":" three"},"finish_reason":null}]}""",
            """{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}""",
        };
        var gateway = new ChatGateway(
            FakeChatServer.Sse(string.Concat(chunks.Select(c => "data: " + c + "\n\n")) + "data: [DONE]\n\n"),
            configureGateway: g => g.RequestTimeoutSeconds = 0.5);
        var sink = new SlowThenStrictSink(holdAt: "response.output_text.delta");

        await gateway.StreamAsync("""{"model":"m","input":"hi","stream":true,"store":false}""", sink);

        Assert.Equal(Enumerable.Range(0, sink.Events.Count), sink.Events.Select(e => (int)e["sequence_number"]!));
        Assert.Equal("response.failed", (string?)sink.Events[^1]["type"]);
        Assert.Equal("timeout", (string?)sink.Events[^1]["response"]!["error"]!["code"]);
        // The case was reached: the held delta went out, the ones after it did not.
        Assert.Single(sink.Events, e => (string?)e["type"] == "response.output_text.delta");
    }

    /// <summary>
    /// Like the SSE writer: a write whose token is already cancelled sends nothing. At the first event of type
    /// <c>holdAt</c> it waits until the request's time has run out, then sends that event.
    /// </summary>
    private sealed class SlowThenStrictSink(string holdAt) : IResponseEventSink
    {
        private bool _held;

        public List<JsonObject> Events { get; } = [];

        public async ValueTask WriteAsync(JsonObject streamEvent, int sequenceNumber, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!_held && (string?)streamEvent["type"] == holdAt)
            {
                _held = true;
                await Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
            Events.Add(StreamEvents.WithSequence((JsonObject)streamEvent.DeepClone(), sequenceNumber));
        }
    }
}
