using Azure;
using ResponsesGateway.Storage.Tables;
using ResponsesGateway.TestSupport;

namespace ResponsesGateway.Storage.Tests.Tables;

[Collection(AzuriteFixture.CollectionName)]
public sealed class EntityOperationTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private TableClient _table = null!;

    public async Task InitializeAsync() => _table = await TableTestClients.CreateTableAsync(azurite, "entity");

    public async Task DisposeAsync() => await _table.DeleteAsync();

    [Fact]
    public async Task Add_ThenGet_ReturnsEntityWithETagAndTimestamp()
    {
        var added = await _table.AddEntityAsync(new TableEntity("p1", "r1") { ["Name"] = "first", ["Count"] = 1 });
        var got = await _table.GetEntityAsync("p1", "r1");

        Assert.Equal(TableResultStatus.Ok, added.Status);
        Assert.Equal(204, added.HttpStatus);
        Assert.NotNull(added.ETag);
        Assert.Equal(TableResultStatus.Ok, got.Status);
        var entity = got.Value!;
        Assert.Equal("p1", entity.PartitionKey);
        Assert.Equal("r1", entity.RowKey);
        Assert.Equal("first", entity.GetString("Name"));
        Assert.Equal(1, entity.GetInt32("Count"));
        Assert.Equal(2, entity.Count);
        Assert.Equal(added.ETag, entity.ETag);
        Assert.NotNull(entity.Timestamp);
        Assert.InRange(entity.Timestamp!.Value, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(5));
    }

    [Fact]
    public async Task Add_Twice_IsConflictWithEntityAlreadyExists()
    {
        await _table.AddEntityAsync(new TableEntity("p1", "dup"));

        var second = await _table.AddEntityAsync(new TableEntity("p1", "dup") { ["X"] = "y" });

        Assert.Equal(TableResultStatus.Conflict, second.Status);
        Assert.Equal(409, second.HttpStatus);
        Assert.Equal("EntityAlreadyExists", second.ErrorCode);
        Assert.StartsWith("AddEntity failed with 409 EntityAlreadyExists: ", second.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_Missing_IsNotFoundWithResourceNotFound()
    {
        var result = await _table.GetEntityAsync("nope", "nope");

        Assert.Equal(TableResultStatus.NotFound, result.Status);
        Assert.Equal(404, result.HttpStatus);
        Assert.Equal("ResourceNotFound", result.ErrorCode);
        Assert.Null(result.Value);
    }

    [Fact]
    public async Task Get_WithSelect_ReturnsOnlySelectedProperties()
    {
        await _table.AddEntityAsync(new TableEntity("p1", "sel") { ["A"] = "a", ["B"] = "b", ["C"] = 3 });

        var result = await _table.GetEntityAsync("p1", "sel", ["A", "C"]);

        Assert.Equal(TableResultStatus.Ok, result.Status);
        Assert.Equal(["A", "C"], result.Value!.Keys.Order());
        Assert.Equal("a", result.Value.GetString("A"));
        Assert.Equal(3, result.Value.GetInt32("C"));
    }

    [Fact]
    public async Task UpsertReplace_DropsPropertiesNotSent()
    {
        await _table.UpsertEntityAsync(new TableEntity("p2", "rep") { ["Keep"] = "k", ["Drop"] = "d" }, TableUpdateMode.Replace);

        var replaced = await _table.UpsertEntityAsync(new TableEntity("p2", "rep") { ["Keep"] = "k2" }, TableUpdateMode.Replace);
        var got = (await _table.GetEntityAsync("p2", "rep")).Value!;

        Assert.Equal(TableResultStatus.Ok, replaced.Status);
        Assert.Equal(["Keep"], got.Keys);
        Assert.Equal("k2", got.GetString("Keep"));
        Assert.Null(got["Drop"]);
    }

    [Fact]
    public async Task UpsertMerge_KeepsPropertiesNotSent_AndInsertsWhenMissing()
    {
        var inserted = await _table.UpsertEntityAsync(new TableEntity("p2", "mrg") { ["Keep"] = "k", ["Change"] = 1 }, TableUpdateMode.Merge);

        var merged = await _table.UpsertEntityAsync(new TableEntity("p2", "mrg") { ["Change"] = 2, ["New"] = true }, TableUpdateMode.Merge);
        var got = (await _table.GetEntityAsync("p2", "mrg")).Value!;

        Assert.Equal(TableResultStatus.Ok, inserted.Status);
        Assert.Equal(TableResultStatus.Ok, merged.Status);
        Assert.Equal(["Change", "Keep", "New"], got.Keys.Order());
        Assert.Equal("k", got.GetString("Keep"));
        Assert.Equal(2, got.GetInt32("Change"));
        Assert.True(got.GetBoolean("New"));
    }

    [Fact]
    public async Task Update_WithCurrentETag_Succeeds_AndWithStaleETag_IsPreconditionFailed()
    {
        var added = await _table.AddEntityAsync(new TableEntity("p3", "etag") { ["V"] = 1 });
        var staleETag = added.ETag!.Value;

        var first = await _table.UpdateEntityAsync(new TableEntity("p3", "etag") { ["V"] = 2 }, staleETag, TableUpdateMode.Replace);
        var second = await _table.UpdateEntityAsync(new TableEntity("p3", "etag") { ["V"] = 3 }, staleETag, TableUpdateMode.Merge);
        var got = (await _table.GetEntityAsync("p3", "etag")).Value!;

        Assert.Equal(TableResultStatus.Ok, first.Status);
        Assert.NotEqual(staleETag, first.ETag);
        Assert.Equal(TableResultStatus.PreconditionFailed, second.Status);
        Assert.Equal(412, second.HttpStatus);
        Assert.Equal("UpdateConditionNotSatisfied", second.ErrorCode);
        Assert.Equal(2, got.GetInt32("V"));
        Assert.Equal(first.ETag, got.ETag);
    }

    [Fact]
    public async Task Update_MissingEntity_IsNotFound_EvenWithWildcardETag()
    {
        var result = await _table.UpdateEntityAsync(new TableEntity("p3", "ghost") { ["V"] = 1 }, ETag.All, TableUpdateMode.Merge);

        Assert.Equal(TableResultStatus.NotFound, result.Status);
        Assert.Equal("ResourceNotFound", result.ErrorCode);
    }

    [Fact]
    public void Update_WithoutETag_IsAProgrammingError()
    {
        Assert.Throws<ArgumentException>(() => { _ = _table.UpdateEntityAsync(new TableEntity("p", "r"), default); });
    }

    [Fact]
    public async Task Delete_WithIfMatch_RespectsETag()
    {
        var added = await _table.AddEntityAsync(new TableEntity("p4", "del") { ["V"] = 1 });
        var updated = await _table.UpsertEntityAsync(new TableEntity("p4", "del") { ["V"] = 2 }, TableUpdateMode.Replace);

        var stale = await _table.DeleteEntityAsync("p4", "del", added.ETag!.Value);
        var current = await _table.DeleteEntityAsync("p4", "del", updated.ETag!.Value);
        var afterwards = await _table.GetEntityAsync("p4", "del");

        Assert.Equal(TableResultStatus.PreconditionFailed, stale.Status);
        Assert.Equal(TableResultStatus.Ok, current.Status);
        Assert.Equal(204, current.HttpStatus);
        Assert.Equal(TableResultStatus.NotFound, afterwards.Status);
    }

    [Fact]
    public async Task Delete_DefaultIsUnconditional_AndMissingIsNotFound()
    {
        await _table.AddEntityAsync(new TableEntity("p4", "any"));

        var deleted = await _table.DeleteEntityAsync("p4", "any");
        var again = await _table.DeleteEntityAsync("p4", "any");

        Assert.Equal(TableResultStatus.Ok, deleted.Status);
        Assert.Equal(TableResultStatus.NotFound, again.Status);
        Assert.Equal("ResourceNotFound", again.ErrorCode);
    }

    [Theory]
    [InlineData("o'clock", "it''s")]
    [InlineData("with space", "plus+and&amp=eq")]
    [InlineData("ünïcødé-€", "日本語")]
    [InlineData("percent%25", "colon:semi;comma,")]
    public async Task AwkwardKeys_RoundTripThroughUrlAndSigning(string partitionKey, string rowKey)
    {
        var added = await _table.AddEntityAsync(new TableEntity(partitionKey, rowKey) { ["V"] = "x" });
        var got = await _table.GetEntityAsync(partitionKey, rowKey);
        var replaced = await _table.UpsertEntityAsync(new TableEntity(partitionKey, rowKey) { ["V"] = "y" }, TableUpdateMode.Replace);
        var deleted = await _table.DeleteEntityAsync(partitionKey, rowKey);

        Assert.Equal(TableResultStatus.Ok, added.Status);
        Assert.Equal(TableResultStatus.Ok, got.Status);
        Assert.Equal(partitionKey, got.Value!.PartitionKey);
        Assert.Equal(rowKey, got.Value.RowKey);
        Assert.Equal(TableResultStatus.Ok, replaced.Status);
        Assert.Equal(TableResultStatus.Ok, deleted.Status);
    }

    [Fact]
    public async Task ForbiddenKeyCharacter_IsBadRequest()
    {
        var result = await _table.AddEntityAsync(new TableEntity("a/b", "r"));

        Assert.Equal(TableResultStatus.BadRequest, result.Status);
        Assert.Equal(400, result.HttpStatus);
    }
}
