using System.Security.Cryptography;
using System.Text.Json.Nodes;
using ResponsesGateway.Core.Options;
using ResponsesGateway.Core.Storage;
using ResponsesGateway.Tests.Infrastructure;
using static ResponsesGateway.Tests.Infrastructure.GatewayHttp;

namespace ResponsesGateway.Tests.Storage;

/// <summary>Gateway:MaxChainBytes: a chain whose history is over the bound is refused before it is decoded or sent upstream.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ChainBoundTests(GatewayFixture fixture)
{
    [Fact]
    public async Task OverTheBound_400ContextLengthExceeded_OnTheCachingAndAColdInstance_NothingSentUpstream()
    {
        var table = "b" + Guid.NewGuid().ToString("N")[..20];
        var settings = new Dictionary<string, string?> { ["Storage:TableName"] = table, ["Gateway:MaxChainBytes"] = "16000" };
        await using var warm = await fixture.StartGatewayAsync(settings);
        await using var cold = await fixture.StartGatewayAsync(new Dictionary<string, string?>(settings) { ["Gateway:ChainCacheMegabytes"] = "0" });
        using var client = warm.CreateClient();
        var root = await ChainConsistencyTests.CreateAsync(client, new string('a', 5000), null);
        var second = await ChainConsistencyTests.CreateAsync(client, new string('b', 5000), root);
        var third = await ChainConsistencyTests.CreateAsync(client, new string('c', 8000), second);

        foreach (var gateway in new[] { warm, cold })
        {
            using var c = gateway.CreateClient();
            // Within the bound: two turns of history (about 11 KB); three (about 19 KB) are over it.
            await ChainConsistencyTests.CreateAsync(c, "fine", second);
            var marker = Guid.NewGuid().ToString("N");
            var (status, body) = await PostAsync(c, "/v1/responses", $$"""{"model":"mock-model","input":"{{marker}}","previous_response_id":"{{third}}","stream":true}""");

            Assert.Equal(400, status);
            AssertError(body, "previous_response_id", "context_length_exceeded");
            Assert.DoesNotContain(fixture.Mock.Requests, r => r.Body.Contains(marker, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void BoundBelow1024_FailsTheStart()
    {
        var result = new GatewayOptionsValidator().Validate(null, new GatewayOptions { MaxChainBytes = 100, ApiKeys = { ["a"] = "sk-a" } });
        Assert.True(result.Failed);
        Assert.Contains("Gateway:MaxChainBytes", result.FailureMessage, StringComparison.Ordinal);
    }

    /// <summary>Random words from a small vocabulary: text that gzip shrinks about as much as prose (4-5×), not to nothing.</summary>
    internal static string Prose(int chars)
    {
        var words = Enumerable.Range(0, 256).Select(i => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(2 + (i % 4)))).ToArray();
        var text = new System.Text.StringBuilder(chars + 16);
        while (text.Length < chars)
        {
            text.Append(words[RandomNumberGenerator.GetInt32(words.Length)]).Append(' ');
        }
        return text.ToString(0, chars);
    }

    internal static StoredResponse Turn(string id, string? parent, string text) => new()
    {
        Id = id,
        Owner = "tenant-a",
        PreviousResponseId = parent,
        Status = "completed",
        Model = "mock-model",
        CreatedAt = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        Response = new JsonObject { ["id"] = id, ["object"] = "response", ["status"] = "completed", ["output"] = new JsonArray() },
        InputItems = [new JsonObject { ["type"] = "message", ["role"] = "user", ["content"] = text }],
    };
}
