using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using ResponsesGateway.TestSupport;
using ResponsesGateway.Tests.Infrastructure;

namespace ResponsesGateway.Tests.Conversations;

/// <summary>
/// A conversation through the official OpenAI JS SDK (<c>client.conversations</c>, its items pager and
/// <c>responses.create</c> with <c>conversation</c>) via <c>tools/js/conversations-check.mjs</c>, over both upstream kinds.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class JsSdkConversationTests(GatewayFixture fixture)
{
    [Theory]
    [InlineData("responses")]
    [InlineData("chat")]
    public async Task JsSdk_DrivesAConversationEndToEnd(string kind)
    {
        await using var chat = kind == "chat" ? await fixture.StartGatewayAsync(kind: "chat") : null;
        var marker = Guid.NewGuid().ToString("N")[..12];

        var result = await RunAsync(chat ?? fixture.Gateway, marker);

        Assert.True((bool)result["ok"]!, result.ToJsonString());
        var id = (string)result["created"]!["id"]!;
        Assert.Equal(marker, (string?)result["created"]!["metadata"]!["topic"]);
        var turns = result["turns"]!.AsArray();
        Assert.Equal(2, turns.Count);
        Assert.All(turns, t =>
        {
            Assert.Equal("completed", (string?)t!["status"]);
            Assert.Equal(id, (string?)t["conversation"]!["id"]);
        });
        Assert.Equal($"Mock reply to: first {marker}", (string?)turns[0]!["text"]);
        Assert.Equal($"Mock reply to: second {marker}", (string?)turns[1]!["text"]);

        var items = result["items"]!.AsArray();
        Assert.Equal(["system:Be brief.", $"user:first {marker}", $"assistant:Mock reply to: first {marker}", $"user:second {marker}", $"assistant:Mock reply to: second {marker}"],
            items.Select(ConversationHttp.Describe).ToArray());
        Assert.Equal(3, (int)result["pages"]!);
        Assert.Equal("user:added", ConversationHttp.Describe(result["item"]));
        Assert.Equal(id, (string?)result["afterDelete"]!["id"]);
        Assert.Equal("updated", (string?)result["updated"]!["metadata"]!["topic"]);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse($$"""{"id":"{{id}}","object":"conversation.deleted","deleted":true}"""), result["deleted"]));
        Assert.Equal(404, (int)result["missing"]!["status"]!);
    }

    private static async Task<JsonObject> RunAsync(GatewayHost gateway, string marker)
    {
        var info = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryRoot.Path,
            StandardOutputEncoding = Encoding.UTF8,
        };
        info.ArgumentList.Add(Path.Combine(RepositoryRoot.Path, "tools", "js", "conversations-check.mjs"));
        info.ArgumentList.Add(new Uri(gateway.BaseUrl, "/v1").ToString());
        info.ArgumentList.Add(GatewayHost.KeyA);
        info.ArgumentList.Add(marker);
        using var process = Process.Start(info)!;
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            var line = (await stdout).Trim();
            Assert.True(line.Length > 0, "conversations-check.mjs printed nothing: " + await stderr);
            return JsonNode.Parse(line)!.AsObject();
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }
}
