using ResponsesGateway.Storage.Tables;
using ResponsesGateway.TestSupport;

namespace ResponsesGateway.Storage.Tests.Tables;

[Collection(AzuriteFixture.CollectionName)]
public sealed class QueryTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private TableClient _table = null!;

    public async Task InitializeAsync()
    {
        _table = await TableTestClients.CreateTableAsync(azurite, "query");
        var rows = Enumerable.Range(0, 30).Select(i => new TableEntity("small", i.ToString("D3"))
        {
            ["N"] = i,
            ["Even"] = i % 2 == 0,
            ["Name"] = "item" + i,
            ["Extra"] = "x",
        });
        foreach (var row in rows)
        {
            Assert.Equal(TableResultStatus.Ok, (await _table.AddEntityAsync(row)).Status);
        }
    }

    public async Task DisposeAsync() => await _table.DeleteAsync();

    [Fact]
    public async Task Filter_Select_Top_AreApplied()
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {"small"} and N ge {10} and Even eq {true}");

        var page = await _table.QueryPageAsync(filter, ["RowKey", "N", "Name"], maxPerPage: 3);

        Assert.Equal(TableResultStatus.Ok, page.Status);
        var values = page.Value!.Values;
        Assert.Equal(["010", "012", "014"], values.Select(v => v.RowKey));
        Assert.Equal([10, 12, 14], values.Select(v => v.GetInt32("N")!.Value));
        // $select returns only what was asked for: custom properties N and Name, the RowKey, no PartitionKey.
        Assert.All(values, v => Assert.Equal(["N", "Name"], v.Keys.Order()));
        Assert.All(values, v => Assert.Equal("", v.PartitionKey));
        Assert.NotNull(page.Value.ContinuationToken);
    }

    [Fact]
    public async Task ContinuationToken_FetchesTheNextPage()
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {"small"}");

        var first = await _table.QueryPageAsync(filter, maxPerPage: 20);
        var second = await _table.QueryPageAsync(filter, maxPerPage: 20, continuationToken: first.Value!.ContinuationToken);

        Assert.Equal(20, first.Value.Values.Count);
        Assert.Equal("019", first.Value.Values[^1].RowKey);
        Assert.Equal(10, second.Value!.Values.Count);
        Assert.Equal("020", second.Value.Values[0].RowKey);
        Assert.Null(second.Value.ContinuationToken);
    }

    [Fact]
    public async Task QueryAsync_WithTop_WalksAllPages()
    {
        var pages = new List<TablePage>();
        await foreach (var page in _table.QueryAsync(TableClient.CreateQueryFilter($"PartitionKey eq {"small"}"), maxPerPage: 7))
        {
            Assert.Equal(TableResultStatus.Ok, page.Status);
            pages.Add(page.Value!);
        }

        Assert.Equal([7, 7, 7, 7, 2], pages.Select(p => p.Values.Count));
        Assert.Equal(30, pages.SelectMany(p => p.Values).Select(v => v.RowKey).Distinct().Count());
    }

    [Fact]
    public async Task FilterMatchingNothing_IsOneEmptyOkPage()
    {
        var pages = new List<TableResult<TablePage>>();
        await foreach (var page in _table.QueryAsync(TableClient.CreateQueryFilter($"PartitionKey eq {"nobody's"}")))
        {
            pages.Add(page);
        }

        var only = Assert.Single(pages);
        Assert.Equal(TableResultStatus.Ok, only.Status);
        Assert.Empty(only.Value!.Values);
        Assert.Null(only.Value.ContinuationToken);
    }

    [Fact]
    public async Task InvalidFilter_IsBadRequest_AndEndsTheEnumeration()
    {
        var pages = new List<TableResult<TablePage>>();
        await foreach (var page in _table.QueryAsync("PartitionKey eq"))
        {
            pages.Add(page);
        }

        var only = Assert.Single(pages);
        Assert.Equal(TableResultStatus.BadRequest, only.Status);
        Assert.Equal(400, only.HttpStatus);
    }
}

[Collection(AzuriteFixture.CollectionName)]
public sealed class LargeQueryTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const int EntityCount = 1100;
    private TableClient _table = null!;

    public async Task InitializeAsync()
    {
        _table = await TableTestClients.CreateTableAsync(azurite, "paging");
        var failures = 0;
        await Parallel.ForEachAsync(
            Enumerable.Range(0, EntityCount),
            new ParallelOptions { MaxDegreeOfParallelism = 16 },
            async (i, ct) =>
            {
                // Two partitions, so continuation also has to cross a partition boundary.
                var row = new TableEntity(i % 2 == 0 ? "even" : "odd", i.ToString("D5")) { ["N"] = i };
                var result = await _table.AddEntityAsync(row, ct);
                if (!result.IsOk)
                {
                    Interlocked.Increment(ref failures);
                }
            });
        Assert.Equal(0, failures);
    }

    public async Task DisposeAsync() => await _table.DeleteAsync();

    [Fact]
    public async Task MoreThan1000Entities_ComeBackAcrossPages_EachAtMost1000()
    {
        var pageSizes = new List<int>();
        var keys = new HashSet<string>();
        await foreach (var page in _table.QueryAsync())
        {
            Assert.Equal(TableResultStatus.Ok, page.Status);
            pageSizes.Add(page.Value!.Values.Count);
            foreach (var entity in page.Value.Values)
            {
                Assert.True(keys.Add(entity.PartitionKey + "/" + entity.RowKey));
            }
        }

        Assert.Equal(EntityCount, keys.Count);
        Assert.True(pageSizes.Count >= 2, $"expected at least two pages, got {pageSizes.Count}");
        Assert.All(pageSizes, size => Assert.InRange(size, 0, 1000));
        Assert.Equal(1000, pageSizes[0]);
    }

    [Fact]
    public async Task FirstPageOnly_HasContinuationToken()
    {
        var first = await _table.QueryPageAsync(select: ["PartitionKey", "N"]);

        Assert.Equal(TableResultStatus.Ok, first.Status);
        Assert.Equal(1000, first.Value!.Values.Count);
        Assert.NotNull(first.Value.ContinuationToken);
        Assert.Equal("even", first.Value.Values[0].PartitionKey);
    }
}
