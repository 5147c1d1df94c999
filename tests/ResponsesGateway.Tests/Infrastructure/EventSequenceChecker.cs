namespace ResponsesGateway.Tests.Infrastructure;

/// <summary>
/// Design invariant 6 on a stream as it came over the wire: the SSE framing (every <c>event:</c> name equals the data's
/// type, no <c>[DONE]</c>), then the event grammar shared with the chat translator's tests
/// (<see cref="TestSupport.EventSequenceChecker"/>).
/// </summary>
public static class EventSequenceChecker
{
    public static void Check(SseStream stream, string? expectedId = null)
    {
        Assert.NotEmpty(stream.Events);
        Assert.DoesNotContain("[DONE]", stream.Raw);
        for (var i = 0; i < stream.Events.Count; i++)
        {
            var type = stream.Events[i].Type;
            Assert.True(stream.Events[i].EventName == type, $"event {i}: 'event: {stream.Events[i].EventName}' differs from type {type}");
        }
        TestSupport.EventSequenceChecker.Check(stream.Events.Select(e => e.Json).ToList(), expectedId);
    }
}
