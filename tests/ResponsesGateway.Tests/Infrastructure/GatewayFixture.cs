using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using ResponsesGateway.MockUpstream;
using ResponsesGateway.TestSupport;

namespace ResponsesGateway.Tests.Infrastructure;

/// <summary>
/// One Azurite, one mock upstream and one gateway (native Responses upstream <c>mock</c> serving every model) shared
/// by a test collection. Tests that need other settings start their own <see cref="GatewayHost"/> against the same
/// Azurite and mock.
/// </summary>
public sealed class GatewayFixture : IAsyncLifetime
{
    public AzuriteServer Azurite { get; private set; } = null!;

    public MockUpstreamServer Mock { get; private set; } = null!;

    public GatewayHost Gateway { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Azurite = await AzuriteServer.StartAsync();
        Mock = await MockUpstreamServer.StartAsync();
        Gateway = await StartGatewayAsync();
    }

    /// <summary>Another gateway on the shared Azurite and mock, with extra settings.</summary>
    public Task<GatewayHost> StartGatewayAsync(IDictionary<string, string?>? extra = null, string kind = "responses", Uri? upstream = null) =>
        GatewayHost.StartAsync(Azurite.ConnectionString, GatewayHost.Upstream("mock", kind, upstream ?? Mock.BaseUrl), extra);

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Mock.DisposeAsync();
        await Azurite.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class GatewayCollection : ICollectionFixture<GatewayFixture>
{
    public const string Name = "gateway";
}

/// <summary>Small helpers for talking to the gateway over HTTP.</summary>
public static class GatewayHttp
{
    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static StringContent Json(JsonNode json) => Json(json.ToJsonString());

    public static async Task<(int Status, JsonObject Body)> PostAsync(HttpClient client, string path, string json)
    {
        using var response = await client.PostAsync(path, Json(json));
        return ((int)response.StatusCode, await ReadObjectAsync(response));
    }

    public static async Task<JsonObject> ReadObjectAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/json", $"expected JSON, got {response.Content.Headers.ContentType}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>POSTs a streaming create and reads the whole SSE body (the server must close it after the terminal event).</summary>
    public static async Task<SseStream> StreamAsync(HttpClient client, string json)
    {
        using var response = await client.PostAsync("/v1/responses", Json(json));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"HTTP {(int)response.StatusCode}: {text}");
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return new SseStream(text);
    }

    /// <summary>Asserts the OpenAI error envelope: exactly the four keys, with the given values.</summary>
    public static void AssertError(JsonObject body, string? param, string? code, string type = "invalid_request_error")
    {
        var error = body["error"] as JsonObject;
        Assert.True(error is not null, $"no error envelope: {body.ToJsonString()}");
        Assert.Equal(["message", "type", "param", "code"], error!.Select(p => p.Key).ToArray());
        Assert.False(string.IsNullOrWhiteSpace((string?)error["message"]));
        Assert.Equal(type, (string?)error["type"]);
        Assert.Equal(param, (string?)error["param"]);
        Assert.Equal(code, (string?)error["code"]);
    }

    public static Task<HttpResponseMessage> PostJsonAsync(HttpClient client, JsonNode body) =>
        client.PostAsync("/v1/responses", Json(body));

    public static JsonContent AsContent(object value) => JsonContent.Create(value);
}
