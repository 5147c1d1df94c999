using System.Net;
using System.Text.Json.Nodes;
using ResponsesGateway.Tests.Infrastructure;
using static ResponsesGateway.Tests.Infrastructure.GatewayHttp;

namespace ResponsesGateway.Tests.Security;

/// <summary>
/// Design invariant 5 as a complete matrix: for a response created by key A (JSON and stream, root and child), key B
/// gets exactly what an unknown id gets on every endpoint (GET, stream replay, DELETE, input_items, chaining with JSON
/// and with a stream), so the answers are no oracle for existence; and A still has its response afterwards.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class IsolationMatrixTests(GatewayFixture fixture)
{
    private static readonly (string Method, string Path)[] Reads =
    [
        ("GET", "/v1/responses/{id}"), ("GET", "/v1/responses/{id}?stream=true"), ("GET", "/v1/responses/{id}?stream=true&starting_after=0"),
        ("GET", "/v1/responses/{id}/input_items"), ("GET", "/v1/responses/{id}/input_items?order=asc&limit=100"), ("DELETE", "/v1/responses/{id}"),
    ];

    [Fact]
    public async Task OtherKeys_CannotReadListReplayDeleteOrChain_AnyResponse()
    {
        using var a = fixture.Gateway.CreateClient(GatewayHost.KeyA);
        using var b = fixture.Gateway.CreateClient(GatewayHost.KeyB);
        var jsonRoot = await CreateAsync(a, """{"model":"mock-model","input":"secret of A"}""", stream: false);
        var streamRoot = await CreateAsync(a, """{"model":"mock-model","input":"streamed secret of A"}""", stream: true);
        var child = await CreateAsync(a, $$"""{"model":"mock-model","input":"child","previous_response_id":"{{jsonRoot}}"}""", stream: true);
        var ofB = await CreateAsync(b, """{"model":"mock-model","input":"secret of B"}""", stream: false);
        var upstreamBefore = fixture.Mock.Requests.Count;

        foreach (var (owner, intruder, id) in new[] { (a, b, jsonRoot), (a, b, streamRoot), (a, b, child), (b, a, ofB) })
        {
            var unknown = id[..^8] + "00000000"; // same chain, never minted: what a missing id looks like
            foreach (var (method, path) in Reads)
            {
                var foreign = await SendAsync(intruder, method, path.Replace("{id}", id, StringComparison.Ordinal));
                var missing = await SendAsync(intruder, method, path.Replace("{id}", unknown, StringComparison.Ordinal));
                Assert.True(foreign.Status == 404, $"{method} {path} for a foreign id: {foreign.Status} {foreign.Body}");
                Assert.Equal(missing.Status, foreign.Status);
                Assert.Equal(missing.Body.Replace(unknown, "<id>", StringComparison.Ordinal), foreign.Body.Replace(id, "<id>", StringComparison.Ordinal));
                AssertError(JsonNode.Parse(foreign.Body)!.AsObject(), null, null);
            }
            foreach (var stream in new[] { false, true })
            {
                var chain = $$"""{"model":"mock-model","input":"continue","stream":{{(stream ? "true" : "false")}},"previous_response_id":"{{id}}"}""";
                var foreign = await SendAsync(intruder, "POST", "/v1/responses", chain);
                var missing = await SendAsync(intruder, "POST", "/v1/responses", chain.Replace(id, unknown, StringComparison.Ordinal));
                Assert.Equal(400, foreign.Status);
                AssertError(JsonNode.Parse(foreign.Body)!.AsObject(), "previous_response_id", "previous_response_not_found");
                Assert.Equal(missing.Body.Replace(unknown, "<id>", StringComparison.Ordinal), foreign.Body.Replace(id, "<id>", StringComparison.Ordinal));
            }
            // Nothing of it was sent anywhere, and the owner still has it, whole.
            Assert.Equal(upstreamBefore, fixture.Mock.Requests.Count);
            var kept = await SendAsync(owner, "GET", $"/v1/responses/{id}");
            Assert.Equal(200, kept.Status);
            var items = await SendAsync(owner, "GET", $"/v1/responses/{id}/input_items");
            Assert.Equal(200, items.Status);
        }
    }

    private static async Task<string> CreateAsync(HttpClient client, string json, bool stream)
    {
        if (stream)
        {
            var sse = await StreamAsync(client, json[..^1] + ",\"stream\":true}");
            return (string)sse.Events[0].Json["response"]!["id"]!;
        }
        var (status, body) = await PostAsync(client, "/v1/responses", json);
        Assert.Equal(200, status);
        return (string)body["id"]!;
    }

    private static async Task<(int Status, string Body)> SendAsync(HttpClient client, string method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = json is null ? null : Json(json) };
        using var response = await client.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
