using System.Text.Json.Nodes;
using ResponsesGateway.Tests.Infrastructure;
using static ResponsesGateway.Tests.Infrastructure.GatewayHttp;

namespace ResponsesGateway.Tests.Conversations;

/// <summary>Small helpers for the Conversations API over HTTP.</summary>
internal static class ConversationHttp
{
    public static async Task<string> CreateAsync(HttpClient client, string json = "{}")
    {
        var (status, body) = await PostAsync(client, "/v1/conversations", json);
        Assert.True(status == 200, $"HTTP {status}: {body.ToJsonString()}");
        return (string)body["id"]!;
    }

    public static async Task<(int Status, JsonObject Body)> SendAsync(HttpClient client, HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = json is null ? null : Json(json) };
        using var response = await client.SendAsync(request);
        return ((int)response.StatusCode, await ReadObjectAsync(response));
    }

    /// <summary>Every item of the conversation, oldest first (one page of 100).</summary>
    public static async Task<JsonArray> ItemsAsync(HttpClient client, string conversation)
    {
        var (status, body) = await SendAsync(client, HttpMethod.Get, $"/v1/conversations/{conversation}/items?order=asc&limit=100");
        Assert.True(status == 200, $"HTTP {status}: {body.ToJsonString()}");
        Assert.False((bool)body["has_more"]!);
        return body["data"]!.AsArray();
    }

    /// <summary>"role:text" of a message item (its first text part), or the item's type.</summary>
    public static string Describe(JsonNode? item)
    {
        if ((string?)item!["type"] is not (null or "message"))
        {
            return (string)item["type"]!;
        }
        var content = item["content"];
        var text = content is JsonArray parts ? (string?)parts[0]!["text"] : (string?)content;
        return $"{item["role"]}:{text}";
    }

    /// <summary>A non-streaming create; returns the Response object.</summary>
    public static async Task<JsonObject> TurnAsync(HttpClient client, string json)
    {
        var (status, body) = await PostAsync(client, "/v1/responses", json);
        Assert.True(status == 200, $"HTTP {status}: {body.ToJsonString()}");
        return body;
    }
}
