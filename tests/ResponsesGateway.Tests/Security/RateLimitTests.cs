using System.Net;
using System.Security.Cryptography;
using System.Text;
using ResponsesGateway.MockUpstream;
using ResponsesGateway.Tests.Infrastructure;
using static ResponsesGateway.Tests.Infrastructure.GatewayHttp;

namespace ResponsesGateway.Tests.Security;

/// <summary>
/// Per-key limits (Gateway:MaxConcurrentRequestsPerKey, Gateway:RequestsPerMinutePerKey) and keys configured by hash,
/// over real HTTP: 429 in OpenAI's rate-limit envelope with Retry-After, per key, after authentication, on every endpoint.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class RateLimitTests(GatewayFixture fixture)
{
    [Fact]
    public async Task RequestsPerMinute_OverTheLimit_Is429WithRetryAfter_PerKey_OnEveryEndpoint()
    {
        await using var gateway = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Gateway:RequestsPerMinutePerKey"] = "3" });
        using var a = gateway.CreateClient(GatewayHost.KeyA);
        using var b = gateway.CreateClient(GatewayHost.KeyB);
        using var nobody = gateway.CreateClient("sk-not-a-key");

        var (created, body) = await PostAsync(a, "/v1/responses", """{"model":"mock-model","input":"one"}""");
        Assert.Equal(200, created);
        var id = (string)body["id"]!;
        using (var get = await a.GetAsync($"/v1/responses/{id}"))
        {
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        }
        using (var models = await a.GetAsync("/v1/models"))
        {
            Assert.Equal(HttpStatusCode.OK, models.StatusCode);
        }
        var upstreamBefore = fixture.Mock.Requests.Count;

        foreach (var request in new Func<Task<HttpResponseMessage>>[]
        {
            () => a.PostAsync("/v1/responses", Json("""{"model":"mock-model","input":"four"}""")),
            () => a.GetAsync($"/v1/responses/{id}"), () => a.GetAsync($"/v1/responses/{id}/input_items"),
            () => a.GetAsync($"/v1/responses/{id}?stream=true"), () => a.DeleteAsync($"/v1/responses/{id}"), () => a.GetAsync("/v1/models"),
        })
        {
            using var limited = await request();
            Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
            var retryAfter = int.Parse(limited.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(retryAfter, 1, 60);
            var error = await ReadObjectAsync(limited);
            AssertError(error, null, "rate_limit_exceeded", type: "requests");
            Assert.EndsWith($"Please try again in {retryAfter}s.", (string?)error["error"]!["message"], StringComparison.Ordinal);
        }
        Assert.Equal(upstreamBefore, fixture.Mock.Requests.Count);

        // Another key has its own budget; a bad key is a 401 whatever the budget (auth comes first).
        var (other, _) = await PostAsync(b, "/v1/responses", """{"model":"mock-model","input":"b is fine"}""");
        Assert.Equal(200, other);
        for (var i = 0; i < 5; i++)
        {
            using var unauthorized = await nobody.GetAsync("/v1/models");
            Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        }
    }

    [Fact]
    public async Task ConcurrentRequests_OverTheLimit_Is429_AndPermitsComeBackWhenRequestsEnd()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        await using var gateway = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Gateway:MaxConcurrentRequestsPerKey"] = "2" }, upstream: mock.BaseUrl);
        using var a = gateway.CreateClient(GatewayHost.KeyA);
        using var b = gateway.CreateClient(GatewayHost.KeyB);

        // Two slow requests hold A's two permits: one JSON, one stream (a stream holds its permit until it ends).
        var slowJson = a.PostAsync("/v1/responses", Json("""{"model":"mock-slow-1500","input":"slow"}"""));
        var slowStream = a.PostAsync("/v1/responses", Json("""{"model":"mock-slow-1500","input":"slow","stream":true}"""));
        await Eventually.WaitUntilAsync(() => mock.Requests.Count >= 2, TimeSpan.FromSeconds(10));
        Assert.Equal(2, mock.Requests.Count);

        using (var third = await a.GetAsync("/v1/models"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
            Assert.Equal("1", third.Headers.GetValues("Retry-After").Single());
            AssertError(await ReadObjectAsync(third), null, "rate_limit_exceeded", type: "requests");
        }
        using (var otherKey = await b.GetAsync("/v1/models"))
        {
            Assert.Equal(HttpStatusCode.OK, otherKey.StatusCode);
        }

        using (var json = await slowJson)
        {
            Assert.Equal(HttpStatusCode.OK, json.StatusCode);
        }
        using (var stream = await slowStream)
        {
            Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
            EventSequenceChecker.Check(new SseStream(await stream.Content.ReadAsStringAsync()));
        }
        // Both permits are back (the 429 did not take one either).
        var again = await Task.WhenAll(a.GetAsync("/v1/models"), a.GetAsync("/v1/models"));
        Assert.All(again, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        foreach (var r in again)
        {
            r.Dispose();
        }
    }

    [Fact]
    public async Task KeyConfiguredOnlyByItsHash_WorksOverHttp_AndOwnsItsResponses()
    {
        const string Key = "sk-hashed-tenant-7f3c2a";
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Key)));
        await using var gateway = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Gateway:ApiKeyHashes:tenant-h"] = hash });
        using var hashed = gateway.CreateClient(Key);
        using var a = gateway.CreateClient(GatewayHost.KeyA);
        using var byHash = gateway.CreateClient(hash);

        var (status, body) = await PostAsync(hashed, "/v1/responses", """{"model":"mock-model","input":"hello"}""");
        Assert.Equal(200, status);
        var id = (string)body["id"]!;
        using (var own = await hashed.GetAsync($"/v1/responses/{id}"))
        {
            Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        }
        using (var foreign = await a.GetAsync($"/v1/responses/{id}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        }
        // The hash itself is not a key.
        using var hashAsKey = await byHash.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.Unauthorized, hashAsKey.StatusCode);
    }
}
