using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using ResponsesGateway.Core.Conversations;
using ResponsesGateway.Core.Storage;
using ResponsesGateway.Storage.Conversations;
using ResponsesGateway.Tests.Infrastructure;

namespace ResponsesGateway.Tests.Storage;

/// <summary>The conversation store against Azurite, counting every storage request.</summary>
[Collection(GatewayCollection.Name)]
public sealed class TableConversationStoreTests(GatewayFixture fixture)
{
    private static readonly long Now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    [Fact]
    public async Task ConversationOf200Items_IsReadWithOneStorageRequest()
    {
        var (store, counter, _) = CreateStore();
        var id = await CreateAsync(store, "owner");
        for (var batch = 0; batch < 10; batch++)
        {
            Assert.True(await store.AppendAsync("owner", id, Enumerable.Range(0, 20).Select(i => Item($"m{batch * 20 + i}")).ToList(), Now, CancellationToken.None));
        }

        counter.Reset();
        var contents = await store.ReadAsync("owner", id, long.MaxValue, CancellationToken.None);

        Assert.Equal(1, counter.Count);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => $"m{i}"), contents!.Items.Select(i => (string?)i["content"]));
    }

    [Fact]
    public async Task AppendOfSmallItems_IsOneTransactionAfterOneHeadRead()
    {
        var (store, counter, _) = CreateStore();
        var id = await CreateAsync(store, "owner");
        await store.AppendAsync("owner", id, [Item("warm")], Now, CancellationToken.None); // the day's bucket row is written once

        counter.Reset();
        Assert.True(await store.AppendAsync("owner", id, [Item("a"), Item("b"), Item("c")], Now, CancellationToken.None));

        // Head read, the transaction (head + 3 items), the index transaction.
        Assert.Equal(3, counter.Count);
    }

    [Fact]
    public async Task LargeItems_SpillIntoContinuationRows_ReadBackIntact_AndAreErasedWithTheConversation()
    {
        var (store, _, table) = CreateStore();
        var id = await CreateAsync(store, "owner");
        // Random base64 does not compress: 4 MiB of it is beyond one transaction, and several rows.
        var big = Convert.ToBase64String(RandomNumberGenerator.GetBytes(3 * 1024 * 1024));
        Assert.True(await store.AppendAsync("owner", id, [Item("before"), Item(big), Item("after")], Now, CancellationToken.None));
        Assert.True(await store.AppendAsync("owner", id, [Item("next")], Now, CancellationToken.None));

        var contents = await store.ReadAsync("owner", id, long.MaxValue, CancellationToken.None);
        Assert.Equal(new[] { "before", big, "after", "next" }, contents!.Items.Select(i => (string)i["content"]!).ToArray());
        var bigId = (string)contents.Items[1]["id"]!;
        Assert.Equal(big, (string?)(await store.GetItemAsync("owner", id, bigId, CancellationToken.None))!["content"]);
        Assert.True((await RowsAsync(table, id)).Count > 6);

        Assert.Throws<ChainTooLargeException>(() => store.ReadAsync("owner", id, 1024 * 1024, CancellationToken.None).GetAwaiter().GetResult());

        Assert.True(await store.DeleteItemAsync("owner", id, bigId, CancellationToken.None));
        Assert.Equal(4, (await RowsAsync(table, id)).Count); // head + three small items: the continuation rows went too
        Assert.True(await store.DeleteAsync("owner", id, CancellationToken.None));
        Assert.Empty(await RowsAsync(table, id));
        Assert.Null(await store.GetAsync("owner", id, CancellationToken.None));
        Assert.False(await store.AppendAsync("owner", id, [Item("late")], Now, CancellationToken.None));
        Assert.Empty(await RowsAsync(table, id));
    }

    [Fact]
    public async Task RacingAppends_AllLand_EachContiguous_InCommitOrder()
    {
        var (store, _, _) = CreateStore();
        var id = await CreateAsync(store, "owner");
        const int writers = 16;

        var results = await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(() =>
            store.AppendAsync("owner", id, [Item($"w{w}:0"), Item($"w{w}:1"), Item($"w{w}:2")], Now, CancellationToken.None))));

        Assert.All(results, Assert.True);
        var texts = (await store.ReadAsync("owner", id, long.MaxValue, CancellationToken.None))!.Items.Select(i => (string)i["content"]!).ToList();
        Assert.Equal(3 * writers, texts.Count);
        for (var at = 0; at < texts.Count; at += 3)
        {
            var writer = texts[at].Split(':')[0];
            Assert.Equal([$"{writer}:0", $"{writer}:1", $"{writer}:2"], texts.Skip(at).Take(3));
        }
        Assert.Equal(writers, texts.Select(t => t.Split(':')[0]).Distinct().Count());
    }

    [Fact]
    public async Task ForeignOwner_SeesNothing_ChangesNothing_FindsNoItem()
    {
        var (store, _, _) = CreateStore();
        var id = await CreateAsync(store, "alice", Item("secret"));
        var itemId = (string)(await store.ReadAsync("alice", id, long.MaxValue, CancellationToken.None))!.Items[0]["id"]!;

        Assert.Null(await store.GetAsync("bob", id, CancellationToken.None));
        Assert.Null(await store.ReadAsync("bob", id, long.MaxValue, CancellationToken.None));
        Assert.Null(await store.UpdateMetadataAsync("bob", id, new JsonObject { ["k"] = "v" }, CancellationToken.None));
        Assert.False(await store.AppendAsync("bob", id, [Item("x")], Now, CancellationToken.None));
        Assert.Null(await store.GetItemAsync("bob", id, itemId, CancellationToken.None));
        Assert.False(await store.DeleteItemAsync("bob", id, itemId, CancellationToken.None));
        Assert.False(await store.DeleteAsync("bob", id, CancellationToken.None));
        Assert.Null(await store.LocateItemAsync("bob", itemId, CancellationToken.None));

        Assert.Equal(id, await store.LocateItemAsync("alice", itemId, CancellationToken.None));
        Assert.Equal(["secret"], (await store.ReadAsync("alice", id, long.MaxValue, CancellationToken.None))!.Items.Select(i => (string?)i["content"]));
    }

    [Fact]
    public async Task Sweep_RemovesConversationsIdleSinceTheCutoff_KeepsActiveOnes()
    {
        var (store, _, table) = CreateStore();
        var old = DateTimeOffset.UtcNow.AddDays(-40).ToUnixTimeSeconds();
        var idle = await CreateAsync(store, "owner", old, Item("idle"));
        var revived = await CreateAsync(store, "owner", old, Item("old"));
        Assert.True(await store.AppendAsync("owner", revived, [Item("new")], Now, CancellationToken.None));
        var fresh = await CreateAsync(store, "owner", Now, Item("fresh"));

        var removed = await store.SweepAsync(DateTimeOffset.UtcNow.AddDays(-30), CancellationToken.None);

        Assert.Equal(1, removed);
        Assert.Empty(await RowsAsync(table, idle));
        Assert.NotNull(await store.GetAsync("owner", revived, CancellationToken.None));
        Assert.Equal(["old", "new"], (await store.ReadAsync("owner", revived, long.MaxValue, CancellationToken.None))!.Items.Select(i => (string?)i["content"]));
        Assert.NotNull(await store.GetAsync("owner", fresh, CancellationToken.None));
        // The old day's bucket rows have done their work; sweeping again finds nothing.
        Assert.Equal(0, await store.SweepAsync(DateTimeOffset.UtcNow.AddDays(-30), CancellationToken.None));
    }

    private static JsonObject Item(string text) => new()
    {
        ["type"] = "message",
        ["id"] = "msg_" + Guid.NewGuid().ToString("N"),
        ["role"] = "user",
        ["content"] = text,
    };

    private static Task<string> CreateAsync(TableConversationStore store, string owner, params JsonObject[] items) => CreateAsync(store, owner, Now, items);

    private static async Task<string> CreateAsync(TableConversationStore store, string owner, long createdAt, params JsonObject[] items)
    {
        var id = ConversationIds.New();
        await store.CreateAsync(new StoredConversation { Id = id, Owner = owner, CreatedAt = createdAt, Metadata = [] }, items, CancellationToken.None);
        return id;
    }

    private static async Task<List<TableEntity>> RowsAsync(TableClient table, string partition)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partition}"), select: ["RowKey"]))
        {
            rows.Add(row);
        }
        return rows;
    }

    private (TableConversationStore Store, RequestCounter Counter, TableClient Table) CreateStore()
    {
        var counter = new RequestCounter();
        var options = new TableClientOptions();
        options.AddPolicy(counter, HttpPipelinePosition.PerCall);
        var client = new TableClient(fixture.Azurite.ConnectionString, "c" + Guid.NewGuid().ToString("N")[..20], options);
        return (new TableConversationStore(client, NullLogger<TableConversationStore>.Instance), counter, client);
    }

    private sealed class RequestCounter : HttpPipelineSynchronousPolicy
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public void Reset() => Interlocked.Exchange(ref _count, 0);

        public override void OnSendingRequest(HttpMessage message) => Interlocked.Increment(ref _count);
    }
}
