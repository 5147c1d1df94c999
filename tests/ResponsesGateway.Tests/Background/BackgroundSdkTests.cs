using System.ClientModel;
using OpenAI.Responses;
using ResponsesGateway.Tests.Infrastructure;

namespace ResponsesGateway.Tests.Background;

/// <summary>The official OpenAI .NET SDK creates, polls, resumes and cancels background responses against the gateway.</summary>
[Collection(BackgroundCollection.Name)]
public sealed class BackgroundSdkTests(BackgroundFixture fixture)
{
    private ResponsesClient Client() =>
        new(new ApiKeyCredential(GatewayHost.KeyA), new ResponsesClientOptions { Endpoint = new Uri(fixture.Gateway.BaseUrl, "/v1") });

    [Fact]
    public async Task Sdk_creates_polls_and_resumes_a_background_response()
    {
        var client = Client();
        var marker = BackgroundHttp.Marker();
        ResponseResult queued = await client.CreateResponseAsync(
            new CreateResponseOptions("mock-model", [ResponseItem.CreateUserMessageItem(marker)]) { BackgroundModeEnabled = true });
        Assert.Equal(ResponseStatus.Queued, queued.Status);

        var deadline = DateTime.UtcNow + BackgroundHttp.Patience;
        ResponseResult current = queued;
        while (current.Status is ResponseStatus.Queued or ResponseStatus.InProgress)
        {
            Assert.True(DateTime.UtcNow < deadline, $"still {current.Status}");
            await Task.Delay(100);
            current = await client.GetResponseAsync(queued.Id);
        }
        Assert.Equal(ResponseStatus.Completed, current.Status);
        Assert.Equal($"Mock reply to: {marker}", current.GetOutputText());

        var sequence = new List<int>();
        ResponseResult? completed = null;
        await foreach (var update in await client.GetResponseStreamingAsync(new GetResponseOptions(queued.Id) { StartingAfter = 1, StreamingEnabled = true }))
        {
            sequence.Add(update.SequenceNumber);
            if (update is StreamingResponseCompletedUpdate done)
            {
                completed = done.Response;
            }
        }
        Assert.Equal(Enumerable.Range(2, sequence.Count), sequence);
        Assert.Equal($"Mock reply to: {marker}", completed?.GetOutputText());
    }

    [Fact]
    public async Task Sdk_streams_a_background_create_and_cancels_it_midway()
    {
        var client = Client();
        var marker = BackgroundHttp.Marker();
        var options = new CreateResponseOptions("mock-stall-30000", [ResponseItem.CreateUserMessageItem(marker)]) { BackgroundModeEnabled = true, StreamingEnabled = true };
        var types = new List<string>();
        string? id = null;
        await foreach (var update in await client.CreateResponseStreamingAsync(options))
        {
            types.Add(update.GetType().Name);
            if (update is StreamingResponseCreatedUpdate created)
            {
                id = created.Response.Id;
                Assert.Equal(ResponseStatus.Queued, created.Response.Status);
            }
            if (update is StreamingResponseOutputTextDeltaUpdate)
            {
                break; // the run goes on without us
            }
        }
        Assert.Equal([nameof(StreamingResponseCreatedUpdate), nameof(StreamingResponseQueuedUpdate), nameof(StreamingResponseInProgressUpdate)], types.Take(3));

        ResponseResult cancelled = await client.CancelResponseAsync(id!);
        Assert.Equal(ResponseStatus.Cancelled, cancelled.Status);
        Assert.Equal(ResponseStatus.Cancelled, ((ResponseResult)await client.GetResponseAsync(id!)).Status);
        Assert.Equal(1, fixture.UpstreamCalls(marker));
    }
}
