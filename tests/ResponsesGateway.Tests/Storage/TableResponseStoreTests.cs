using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using ResponsesGateway.Core.Ids;
using ResponsesGateway.Core.Storage;
using ResponsesGateway.Storage.Responses;
using ResponsesGateway.Tests.Infrastructure;

namespace ResponsesGateway.Tests.Storage;

/// <summary>The chain store against Azurite, counting every storage request.</summary>
[Collection(GatewayCollection.Name)]
public sealed class TableResponseStoreTests(GatewayFixture fixture)
{
    [Fact]
    public async Task ChainOfDepth100_ResolvesWithExactlyOneStorageRequest()
    {
        var (store, counter) = CreateStore();
        var ids = await SaveChainAsync(store, "owner", 100);

        counter.Reset();
        var chain = await store.GetChainAsync("owner", ids[^1], CancellationToken.None);

        Assert.Equal(1, counter.Count);
        Assert.NotNull(chain);
        Assert.Equal(ids, chain!.Select(t => t.Id));
        Assert.Equal("turn 0", (string?)chain[0].InputItems[0]!["content"]);
        Assert.Equal("turn 99", (string?)chain[^1].InputItems[0]!["content"]);
    }

    [Fact]
    public async Task LargeTurn_SpillsIntoContinuationRowsAndReadsBackIntact()
    {
        var (store, counter) = CreateStore();
        var id = ResponseIds.NewRoot();
        // Random base64 does not compress: 5 MB of it needs several continuation rows.
        var big = Convert.ToBase64String(RandomNumberGenerator.GetBytes(4 * 1024 * 1024));
        await store.SaveAsync(Turn(id, null, "owner", big), CancellationToken.None);
        Assert.True(counter.Count >= 1 + 5, $"expected continuation rows before the head row, saw {counter.Count} requests");

        var read = await store.GetAsync("owner", id, CancellationToken.None);
        var chain = await store.GetChainAsync("owner", id, CancellationToken.None);

        Assert.Equal(big, (string?)read!.InputItems[0]!["content"]);
        Assert.Equal(big, (string?)chain!.Single().InputItems[0]!["content"]);
        Assert.True(await store.DeleteAsync("owner", id, CancellationToken.None));
        Assert.Null(await store.GetAsync("owner", id, CancellationToken.None));
    }

    [Fact]
    public async Task ForeignOwner_SeesNothingAndCannotDelete()
    {
        var (store, _) = CreateStore();
        var ids = await SaveChainAsync(store, "alice", 2);

        Assert.Null(await store.GetAsync("bob", ids[0], CancellationToken.None));
        Assert.Null(await store.GetChainAsync("bob", ids[1], CancellationToken.None));
        Assert.False(await store.DeleteAsync("bob", ids[1], CancellationToken.None));
        Assert.NotNull(await store.GetAsync("alice", ids[1], CancellationToken.None));
    }

    [Fact]
    public async Task Sweep_RemovesOnlyChainsWhoseNewestTurnIsOlderThanTheCutoff()
    {
        var (store, _) = CreateStore();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var old = ResponseIds.NewRoot();
        await store.SaveAsync(Turn(old, null, "owner", "old", now - 40 * 86400), CancellationToken.None);
        var mixedRoot = ResponseIds.NewRoot();
        await store.SaveAsync(Turn(mixedRoot, null, "owner", "old root", now - 40 * 86400), CancellationToken.None);
        var mixedChild = ResponseIds.NewChild(mixedRoot);
        await store.SaveAsync(Turn(mixedChild, mixedRoot, "owner", "recent child", now), CancellationToken.None);

        var removed = await store.SweepAsync(DateTimeOffset.UtcNow.AddDays(-30), CancellationToken.None);

        Assert.Equal(1, removed);
        Assert.Null(await store.GetAsync("owner", old, CancellationToken.None));
        Assert.Equal(2, (await store.GetChainAsync("owner", mixedChild, CancellationToken.None))!.Count);
    }

    [Fact]
    public async Task Sweep_OfATableOf100000Rows_With100Expired_ReadsOnlyTheExpiredPart()
    {
        var (store, counter, table) = CreateStoreWithTable();
        await table.CreateIfNotExistsAsync();
        var now = DateTimeOffset.UtcNow;
        // 1,000 live chains of 100 turns (metadata only: the sweep never reads a live chain's rows), indexed today.
        var live = Enumerable.Range(0, 1000).Select(_ => ResponseIds.NewRoot()[5..37]).ToArray();
        await Parallel.ForEachAsync(live, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (chain, ct) =>
        {
            var rows = Enumerable.Range(0, 100).Select(i => new TableTransactionAction(TableTransactionActionType.UpsertReplace,
                new TableEntity(chain, $"resp_{chain}{i:x32}") { ["Owner"] = "owner", ["CreatedAt"] = now.ToUnixTimeSeconds() }));
            await table.SubmitTransactionAsync(rows, ct);
        });
        var today = ExpiryIndex.BucketOf(now.ToUnixTimeSeconds());
        foreach (var batch in live.Chunk(100))
        {
            await table.SubmitTransactionAsync(batch.Select(chain => new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity(today, chain))));
        }
        // 100 chains whose only turn is 40 days old, stored the gateway's way (so indexed on their day).
        var expired = new List<string>();
        for (var i = 0; i < 100; i++)
        {
            var id = ResponseIds.NewRoot();
            await store.SaveAsync(Turn(id, null, "owner", "old " + i, now.AddDays(-40).ToUnixTimeSeconds()), CancellationToken.None);
            expired.Add(id);
        }

        counter.Reset();
        var removed = await store.SweepAsync(now.AddDays(-30), CancellationToken.None);

        Assert.Equal(100, removed);
        // Per expired chain: its index row read, its heads read, its head deleted, its index row deleted; plus the lease.
        Assert.InRange(counter.Count, 300, (3 * 100) + 10);
        Assert.Null(await store.GetAsync("owner", expired[0], CancellationToken.None));
        Assert.True((await table.GetEntityIfExistsAsync<TableEntity>(live[^1], $"resp_{live[^1]}{99:x32}")).HasValue);
        counter.Reset();
        Assert.Equal(0, await store.SweepAsync(now.AddDays(-30), CancellationToken.None));
        Assert.InRange(counter.Count, 1, 5); // nothing expired: the lease and one empty index read
    }

    [Fact]
    public async Task Sweep_WaitsForAnotherInstancesLease_AndTakesAnExpiredOne()
    {
        var (store, _, table) = CreateStoreWithTable();
        var old = ResponseIds.NewRoot();
        await store.SaveAsync(Turn(old, null, "owner", "old", DateTimeOffset.UtcNow.AddDays(-40).ToUnixTimeSeconds()), CancellationToken.None);
        var lease = new TableEntity(ExpiryIndex.LeasePartition, ExpiryIndex.LeaseRow) { [ExpiryIndex.LeaseExpiresAt] = DateTimeOffset.UtcNow.AddMinutes(5) };
        await table.AddEntityAsync(lease);

        Assert.Equal(0, await store.SweepAsync(DateTimeOffset.UtcNow.AddDays(-30), CancellationToken.None));
        Assert.NotNull(await store.GetAsync("owner", old, CancellationToken.None));

        lease[ExpiryIndex.LeaseExpiresAt] = DateTimeOffset.UtcNow.AddMinutes(-1); // its holder died
        await table.UpsertEntityAsync(lease, TableUpdateMode.Replace);
        Assert.Equal(1, await store.SweepAsync(DateTimeOffset.UtcNow.AddDays(-30), CancellationToken.None));
        Assert.False((await table.GetEntityIfExistsAsync<TableEntity>(ExpiryIndex.LeasePartition, ExpiryIndex.LeaseRow)).HasValue);
    }

    [Fact]
    public async Task Delete_ErasesRowsOnceNoLivingDescendantNeedsThem()
    {
        var (store, _, table) = CreateStoreWithTable();
        var grand = ResponseIds.NewRoot();
        await store.SaveAsync(Turn(grand, null, "owner", "grand"), CancellationToken.None);
        var parent = ResponseIds.NewChild(grand);
        // Random base64 does not compress: the parent spills into continuation rows, which must go with it.
        await store.SaveAsync(Turn(parent, grand, "owner", Convert.ToBase64String(RandomNumberGenerator.GetBytes(1024 * 1024))), CancellationToken.None);
        var first = ResponseIds.NewChild(parent);
        await store.SaveAsync(Turn(first, parent, "owner", "first"), CancellationToken.None);
        var second = ResponseIds.NewChild(parent);
        await store.SaveAsync(Turn(second, parent, "owner", "second"), CancellationToken.None);
        var parentRows = (await KeysAsync(table, grand)).Count(k => k.StartsWith(parent, StringComparison.Ordinal));
        Assert.True(parentRows > 1, $"expected continuation rows, saw {parentRows} rows");

        Assert.True(await store.DeleteAsync("owner", parent, CancellationToken.None));
        Assert.Equal(parentRows, (await KeysAsync(table, grand)).Count(k => k.StartsWith(parent, StringComparison.Ordinal)));
        Assert.True(await store.DeleteAsync("owner", first, CancellationToken.None));
        // The first child goes at once; the parent stays, hidden, for the second.
        var heads = (await KeysAsync(table, grand)).Where(k => !k.Contains('~', StringComparison.Ordinal)).Order(StringComparer.Ordinal);
        Assert.Equal(new[] { grand, parent, second }.Order(StringComparer.Ordinal), heads);
        Assert.Equal(3, (await store.GetChainAsync("owner", second, CancellationToken.None))!.Count);

        // The last descendant goes: the hidden parent is erased with its continuation rows; the visible root stays.
        Assert.True(await store.DeleteAsync("owner", second, CancellationToken.None));
        Assert.Equal([grand], await KeysAsync(table, grand));
        Assert.NotNull(await store.GetAsync("owner", grand, CancellationToken.None));
        Assert.True(await store.DeleteAsync("owner", grand, CancellationToken.None));
        Assert.Empty(await KeysAsync(table, grand));
        Assert.False(await store.DeleteAsync("owner", grand, CancellationToken.None));
    }

    [Fact]
    public async Task ChildOfARemovedParent_IsNotStored_AndLeavesNoRows()
    {
        var (store, _, table) = CreateStoreWithTable();
        var root = ResponseIds.NewRoot();
        await store.SaveAsync(Turn(root, null, "owner", "root"), CancellationToken.None);
        Assert.True(await store.DeleteAsync("owner", root, CancellationToken.None));

        var child = ResponseIds.NewChild(root);
        var big = Convert.ToBase64String(RandomNumberGenerator.GetBytes(1024 * 1024));
        var gone = await Assert.ThrowsAsync<PreviousResponseGoneException>(() => store.SaveAsync(Turn(child, root, "owner", big), CancellationToken.None));

        Assert.Equal(root, gone.PreviousResponseId);
        Assert.Empty(await KeysAsync(table, root));
    }

    private (TableResponseStore Store, RequestCounter Counter, TableClient Table) CreateStoreWithTable()
    {
        var (store, counter) = CreateStore(out var table);
        return (store, counter, table);
    }

    private static async Task<List<string>> KeysAsync(TableClient table, string anyIdOfTheChain)
    {
        var keys = new List<string>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {anyIdOfTheChain.Substring(5, 32)}"), select: ["RowKey"]))
        {
            keys.Add(row.RowKey);
        }
        return keys;
    }

    private (TableResponseStore Store, RequestCounter Counter) CreateStore() => CreateStore(out _);

    private (TableResponseStore Store, RequestCounter Counter) CreateStore(out TableClient client)
    {
        var counter = new RequestCounter();
        var options = new TableClientOptions();
        options.AddPolicy(counter, HttpPipelinePosition.PerCall);
        client = new TableClient(fixture.Azurite.ConnectionString, "s" + Guid.NewGuid().ToString("N")[..20], options);
        return (new TableResponseStore(client, NullLogger<TableResponseStore>.Instance), counter);
    }

    private static async Task<List<string>> SaveChainAsync(TableResponseStore store, string owner, int depth)
    {
        var ids = new List<string>();
        string? parent = null;
        for (var i = 0; i < depth; i++)
        {
            var id = parent is null ? ResponseIds.NewRoot() : ResponseIds.NewChild(parent);
            await store.SaveAsync(Turn(id, parent, owner, $"turn {i}"), CancellationToken.None);
            ids.Add(id);
            parent = id;
        }
        return ids;
    }

    private static StoredResponse Turn(string id, string? parent, string owner, string text, long? createdAt = null) => new()
    {
        Id = id,
        Owner = owner,
        PreviousResponseId = parent,
        Status = "completed",
        Model = "m",
        CreatedAt = createdAt ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        Response = new JsonObject { ["id"] = id, ["object"] = "response", ["status"] = "completed", ["output"] = new JsonArray(new JsonObject { ["type"] = "message", ["role"] = "assistant", ["content"] = "reply " + text }) },
        InputItems = [new JsonObject { ["type"] = "message", ["role"] = "user", ["content"] = text }],
    };

    private sealed class RequestCounter : HttpPipelineSynchronousPolicy
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public void Reset() => Interlocked.Exchange(ref _count, 0);

        public override void OnSendingRequest(HttpMessage message) => Interlocked.Increment(ref _count);
    }
}
