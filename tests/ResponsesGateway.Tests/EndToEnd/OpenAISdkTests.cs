using System.ClientModel;
using OpenAI.Responses;
using ResponsesGateway.Tests.Infrastructure;

namespace ResponsesGateway.Tests.EndToEnd;

/// <summary>The official OpenAI .NET SDK (type-strict deserializers) against the gateway, JSON and streaming.</summary>
[Collection(GatewayCollection.Name)]
public sealed class OpenAISdkTests(GatewayFixture fixture)
{
    private ResponsesClient Client(string key = GatewayHost.KeyA) =>
        new(new ApiKeyCredential(key), new ResponsesClientOptions { Endpoint = new Uri(fixture.Gateway.BaseUrl, "/v1") });

    [Fact]
    public async Task Sdk_CreateResponse_ParsesTheGatewayResponse()
    {
        ResponseResult response = await Client().CreateResponseAsync("mock-model", "hello sdk", previousResponseId: null);

        Assert.Equal(ResponseStatus.Completed, response.Status);
        Assert.Equal("Mock reply to: hello sdk", response.GetOutputText());
        Assert.StartsWith("resp_", response.Id);
        Assert.True(response.Usage.TotalTokenCount > 0);
    }

    [Fact]
    public async Task Sdk_Streaming_ReceivesEveryUpdateAndTheCompletedResponse()
    {
        var deltas = new List<string>();
        ResponseResult? completed = null;
        var sequence = new List<int>();
        await foreach (var update in await Client().CreateResponseStreamingAsync("mock-model", "stream via sdk", previousResponseId: null))
        {
            sequence.Add(update.SequenceNumber);
            switch (update)
            {
                case StreamingResponseOutputTextDeltaUpdate delta:
                    deltas.Add(delta.Delta);
                    break;
                case StreamingResponseCompletedUpdate done:
                    completed = done.Response;
                    break;
            }
        }

        Assert.Equal(Enumerable.Range(0, sequence.Count), sequence);
        Assert.Equal("Mock reply to: stream via sdk", string.Concat(deltas));
        Assert.NotNull(completed);
        Assert.Equal(ResponseStatus.Completed, completed!.Status);
        Assert.Equal("Mock reply to: stream via sdk", completed.GetOutputText());
    }

    [Fact]
    public async Task Sdk_WrongKey_ThrowsWith401()
    {
        var error = await Assert.ThrowsAsync<ClientResultException>(() => Client("sk-nope").CreateResponseAsync("mock-model", "x", previousResponseId: null));

        Assert.Equal(401, error.Status);
    }
}
