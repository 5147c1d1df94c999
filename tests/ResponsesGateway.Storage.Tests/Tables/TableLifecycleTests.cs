using ResponsesGateway.Storage.Tables;
using ResponsesGateway.TestSupport;

namespace ResponsesGateway.Storage.Tests.Tables;

[Collection(AzuriteFixture.CollectionName)]
public sealed class TableLifecycleTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task CreateIfNotExists_Twice_CreatesOnceAndThenReportsExisting()
    {
        var client = new TableClient(azurite.ConnectionString, TableTestClients.UniqueName("life"));

        var first = await client.CreateIfNotExistsAsync();
        var second = await client.CreateIfNotExistsAsync();

        Assert.Equal(TableResultStatus.Ok, first.Status);
        Assert.Equal(204, first.HttpStatus);
        Assert.True(first.Value);
        Assert.Equal(TableResultStatus.Ok, second.Status);
        Assert.Equal(409, second.HttpStatus);
        Assert.False(second.Value);
    }

    [Fact]
    public async Task Delete_RemovesTable_AndSecondDeleteIsNotFound()
    {
        var client = await TableTestClients.CreateTableAsync(azurite, "life");

        var deleted = await client.DeleteAsync();
        var again = await client.DeleteAsync();

        Assert.Equal(TableResultStatus.Ok, deleted.Status);
        Assert.Equal(TableResultStatus.NotFound, again.Status);
        Assert.Equal(404, again.HttpStatus);
    }

    [Fact]
    public async Task OperationsOnMissingTable_AreNotFoundWithTableNotFound()
    {
        var client = new TableClient(azurite.ConnectionString, TableTestClients.UniqueName("missing"));

        var query = await client.QueryPageAsync();
        var insert = await client.AddEntityAsync(new TableEntity("p", "r"));

        Assert.Equal(TableResultStatus.NotFound, query.Status);
        Assert.Equal("TableNotFound", query.ErrorCode);
        Assert.Null(query.Value);
        Assert.Equal(TableResultStatus.NotFound, insert.Status);
        Assert.Equal("TableNotFound", insert.ErrorCode);
    }

    [Fact]
    public async Task ExtraPolicies_SeeEveryRequest_SignedWithSharedKeyLite()
    {
        var counter = new CountingPolicy();
        var options = new TableClientOptions();
        options.AddPolicy(counter, Azure.Core.HttpPipelinePosition.PerRetry);
        var client = new TableClient(azurite.ConnectionString, TableTestClients.UniqueName("count"), options);

        await client.CreateIfNotExistsAsync();
        await client.AddEntityAsync(new TableEntity("p", "r"));
        await client.UpsertEntityAsync(new TableEntity("p", "r"), TableUpdateMode.Merge);
        await client.GetEntityAsync("p", "r");

        Assert.Equal(4, counter.Count);
        Assert.Equal(["POST", "POST", "MERGE", "GET"], counter.Methods);
        Assert.All(counter.AuthorizationHeaders, h => Assert.StartsWith("SharedKeyLite devstoreaccount1:", h, StringComparison.Ordinal));
    }
}
