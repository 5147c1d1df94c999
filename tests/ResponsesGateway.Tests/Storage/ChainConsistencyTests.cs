using System.Net;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using ResponsesGateway.Tests.Infrastructure;
using static ResponsesGateway.Tests.Infrastructure.GatewayHttp;

namespace ResponsesGateway.Tests.Storage;

/// <summary>
/// Children against deletes of their parent, with two gateway instances on one table: whichever wins, a child the
/// client saw <c>completed</c> is continuable and whole on every instance, and a child that lost is not stored at all.
/// The table is read directly to check what is left.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class ChainConsistencyTests(GatewayFixture fixture)
{
    [Fact]
    public async Task DeleteWins_ChildInFlight_EndsWithPreviousResponseNotFoundAndNothingIsStored()
    {
        var (one, two, table) = await StartPairAsync();
        await using var _ = one;
        await using var __ = two;
        using var a = one.CreateClient();
        using var b = two.CreateClient();
        var root = await CreateAsync(a, "root", null);

        // The continuation waits 800 ms for the upstream on instance two; the delete lands on instance one meanwhile.
        var child = StreamAsync(b, Continuation(root, "child", "mock-slow-800"));
        await Task.Delay(300);
        using (var deleted = await a.DeleteAsync($"/v1/responses/{root}"))
        {
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        }
        var stream = await child;

        EventSequenceChecker.Check(stream);
        Assert.Equal("response.failed", stream.Types[^1]);
        Assert.Equal("previous_response_not_found", (string?)stream.Terminal["error"]!["code"]);
        Assert.DoesNotContain("response.completed", stream.Types);
        var childId = (string)stream.Terminal["id"]!;
        foreach (var client in new[] { a, b })
        {
            using var get = await client.GetAsync($"/v1/responses/{childId}");
            Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        }
        // Nothing half-stored, and the root, deleted with no child left, is erased.
        Assert.Empty(await RowsAsync(table, root));
    }

    [Fact]
    public async Task DeleteWins_Json_Is400PreviousResponseNotFound()
    {
        var (one, two, table) = await StartPairAsync();
        await using var _ = one;
        await using var __ = two;
        using var a = one.CreateClient();
        using var b = two.CreateClient();
        var root = await CreateAsync(a, "root", null);

        var child = PostAsync(b, "/v1/responses", Continuation(root, "child", "mock-slow-800", stream: false));
        await Task.Delay(300);
        (await a.DeleteAsync($"/v1/responses/{root}")).Dispose();
        var (status, body) = await child;

        Assert.Equal(400, status);
        AssertError(body, "previous_response_id", "previous_response_not_found");
        Assert.Empty(await RowsAsync(table, root));
    }

    [Fact]
    public async Task ChildWins_ParentDeletedAfter_ChildStaysContinuableAndWholeOnBothInstances()
    {
        var (one, two, table) = await StartPairAsync();
        await using var _ = one;
        await using var __ = two;
        using var a = one.CreateClient();
        using var b = two.CreateClient();
        var root = await CreateAsync(a, "root words", null);
        var child = await CreateAsync(b, "child words", root);

        using (var deleted = await a.DeleteAsync($"/v1/responses/{root}"))
        {
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        }

        foreach (var client in new[] { a, b })
        {
            using var getRoot = await client.GetAsync($"/v1/responses/{root}");
            Assert.Equal(HttpStatusCode.NotFound, getRoot.StatusCode);
            await AssertWholeAsync(client, child, ["root words", "child words"]);
            await CreateAsync(client, "more", child);
        }
        // The root is hidden, not erased: its child is rebuilt from it.
        var rootRow = Assert.Single(await RowsAsync(table, root), r => r.RowKey == root);
        Assert.True(rootRow.GetBoolean("Deleted"));
    }

    [Fact]
    public async Task DeleteRacingContinuations_EitherCompletedAndWholeEverywhere_OrFailedAndNotStored()
    {
        var (one, two, table) = await StartPairAsync();
        await using var _ = one;
        await using var __ = two;
        using var a = one.CreateClient();
        using var b = two.CreateClient();
        var outcomes = new List<string>();
        for (var round = 0; round < 16; round++)
        {
            var root = await CreateAsync(a, "root " + round, null);
            // Spread the delete over the continuation's life: before the parent is read, before the upstream answers,
            // around the store, after.
            var child = b.PostAsync("/v1/responses", Json(Continuation(root, "child " + round, "mock-slow-60")));
            await Task.Delay(round * 40);
            using (var deleted = await a.DeleteAsync($"/v1/responses/{root}"))
            {
                Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
            }
            using var answer = await child;
            if (answer.StatusCode == HttpStatusCode.BadRequest)
            {
                // The delete landed before the continuation read its parent: refused before any event, as for an id
                // that never existed, and nothing of the child is stored.
                outcomes.Add("refused");
                AssertError(await ReadObjectAsync(answer), "previous_response_id", "previous_response_not_found");
                Assert.DoesNotContain(await RowsAsync(table, root), r => r.RowKey.StartsWith("resp_", StringComparison.Ordinal) && !r.RowKey.StartsWith(root, StringComparison.Ordinal));
                continue;
            }
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            Assert.Equal("text/event-stream", answer.Content.Headers.ContentType?.MediaType);
            var stream = new SseStream(await answer.Content.ReadAsStringAsync());
            EventSequenceChecker.Check(stream);
            var childId = (string)stream.Terminal["id"]!;
            if (stream.Types[^1] == "response.completed")
            {
                outcomes.Add("completed");
                foreach (var client in new[] { a, b })
                {
                    await AssertWholeAsync(client, childId, ["root " + round, "child " + round]);
                }
                await CreateAsync(a, "after", childId);
            }
            else
            {
                outcomes.Add("failed");
                Assert.Equal("previous_response_not_found", (string?)stream.Terminal["error"]!["code"]);
                Assert.DoesNotContain(await RowsAsync(table, root), r => r.RowKey.StartsWith(childId, StringComparison.Ordinal));
            }
        }
        // Both sides of the race were exercised (the delays span it), else this test proves less than it claims.
        Assert.Contains("completed", outcomes);
        Assert.Contains("failed", outcomes);
    }

    [Fact]
    public async Task FiftyParallelForks_OnTwoInstances_AllSucceedAndStayContinuable()
    {
        var (one, two, table) = await StartPairAsync();
        await using var _ = one;
        await using var __ = two;
        using var a = one.CreateClient();
        using var b = two.CreateClient();
        var root = await CreateAsync(a, "root", null);

        var forks = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => CreateAsync(i % 2 == 0 ? a : b, "fork " + i, root, stream: i % 3 == 0)));

        Assert.Equal(50, forks.Distinct().Count());
        (await a.DeleteAsync($"/v1/responses/{root}")).Dispose();
        await Task.WhenAll(forks.Select((fork, i) => AssertWholeAsync(i % 2 == 0 ? b : a, fork, ["root", "fork " + i])));
        Assert.Equal(51, (await RowsAsync(table, root)).Count);
    }

    private async Task<(GatewayHost One, GatewayHost Two, TableClient Table)> StartPairAsync()
    {
        var name = "c" + Guid.NewGuid().ToString("N")[..20];
        var settings = new Dictionary<string, string?> { ["Storage:TableName"] = name };
        var one = await fixture.StartGatewayAsync(settings);
        var two = await fixture.StartGatewayAsync(settings);
        return (one, two, new TableClient(fixture.Azurite.ConnectionString, name));
    }

    /// <summary>Every row of the chain's partition, continuation rows included.</summary>
    internal static async Task<List<TableEntity>> RowsAsync(TableClient table, string anyIdOfTheChain)
    {
        var partition = anyIdOfTheChain.Substring("resp_".Length, 32);
        var rows = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partition}")))
        {
            rows.Add(row);
        }
        return rows;
    }

    private static async Task AssertWholeAsync(HttpClient client, string id, string[] userTexts)
    {
        using var response = await client.GetAsync($"/v1/responses/{id}/input_items?order=asc&limit=100");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var items = (await ReadObjectAsync(response))["data"]!.AsArray();
        var texts = items.Where(i => (string?)i!["role"] == "user").Select(i => (string?)i!["content"]![0]!["text"]).ToArray();
        Assert.Equal(userTexts, texts);
    }

    private static string Continuation(string previous, string text, string model = "mock-model", bool stream = true) => new JsonObject
    {
        ["model"] = model,
        ["input"] = text,
        ["previous_response_id"] = previous,
        ["stream"] = stream,
    }.ToJsonString();

    internal static async Task<string> CreateAsync(HttpClient client, string text, string? previous, bool stream = false)
    {
        var body = new JsonObject { ["model"] = "mock-model", ["input"] = text };
        if (previous is not null)
        {
            body["previous_response_id"] = previous;
        }
        if (stream)
        {
            body["stream"] = true;
            var sse = await StreamAsync(client, body.ToJsonString());
            Assert.Equal("response.completed", sse.Types[^1]);
            return (string)sse.Terminal["id"]!;
        }
        var (status, response) = await PostAsync(client, "/v1/responses", body.ToJsonString());
        Assert.True(status == 200, response.ToJsonString());
        return (string)response["id"]!;
    }
}
