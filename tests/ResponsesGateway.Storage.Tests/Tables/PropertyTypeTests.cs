using ResponsesGateway.Storage.Tables;
using ResponsesGateway.TestSupport;

namespace ResponsesGateway.Storage.Tests.Tables;

[Collection(AzuriteFixture.CollectionName)]
public sealed class PropertyTypeTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private TableClient _table = null!;

    public async Task InitializeAsync() => _table = await TableTestClients.CreateTableAsync(azurite, "types");

    public async Task DisposeAsync() => await _table.DeleteAsync();

    [Fact]
    public async Task EveryPropertyType_RoundTripsWithItsType()
    {
        var when = new DateTimeOffset(2026, 11, 22, 3, 4, 5, TimeSpan.Zero).AddTicks(1234567);
        var id = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");
        var entity = new TableEntity("types", "all")
        {
            ["Str"] = "héllo \"world\" \n",
            ["Empty"] = "",
            ["Bin"] = new byte[] { 0, 1, 2, 254, 255 },
            ["I64"] = long.MaxValue,
            ["I64Small"] = 7L,
            ["I64Neg"] = long.MinValue,
            ["I32"] = -42,
            ["Dbl"] = 3.25,
            ["DblWhole"] = 2.0,
            ["DblTiny"] = 1e-300,
            ["BoolT"] = true,
            ["BoolF"] = false,
            ["When"] = when,
            ["Id"] = id,
        };

        var added = await _table.AddEntityAsync(entity);
        var got = (await _table.GetEntityAsync("types", "all")).Value!;

        Assert.Equal(TableResultStatus.Ok, added.Status);
        Assert.Equal(entity.Count, got.Count);
        Assert.Equal("héllo \"world\" \n", got["Str"]);
        Assert.Equal("", got["Empty"]);
        Assert.Equal(new byte[] { 0, 1, 2, 254, 255 }, got["Bin"]);
        Assert.Equal(long.MaxValue, got["I64"]);
        Assert.Equal(7L, got["I64Small"]);
        Assert.Equal(long.MinValue, got["I64Neg"]);
        Assert.Equal(-42, got["I32"]);
        Assert.Equal(3.25, got["Dbl"]);
        Assert.Equal(2.0, got.GetDouble("DblWhole"));
        Assert.Equal(1e-300, got["DblTiny"]);
        Assert.Equal(true, got["BoolT"]);
        Assert.Equal(false, got["BoolF"]);
        Assert.Equal(when, got["When"]);
        Assert.Equal(TimeSpan.Zero, got.GetDateTimeOffset("When")!.Value.Offset);
        Assert.Equal(id, got["Id"]);
    }

    [Fact]
    public async Task TypesSurviveQueries_NotOnlyPointReads()
    {
        await _table.AddEntityAsync(new TableEntity("typesq", "1") { ["I64"] = 5L, ["Id"] = Guid.Empty, ["Bin"] = new byte[] { 9 } });

        var page = await _table.QueryPageAsync(TableClient.CreateQueryFilter($"PartitionKey eq {"typesq"}"));

        var row = Assert.Single(page.Value!.Values);
        Assert.Equal(5L, row["I64"]);
        Assert.Equal(Guid.Empty, row["Id"]);
        Assert.Equal(new byte[] { 9 }, row["Bin"]);
        Assert.NotEqual(default, row.ETag);
    }

    [Fact]
    public async Task LocalDateTimeOffset_IsStoredAsUtcInstant()
    {
        var local = new DateTimeOffset(2026, 1, 2, 10, 0, 0, TimeSpan.FromHours(5));
        await _table.AddEntityAsync(new TableEntity("types", "tz") { ["When"] = local });

        var got = (await _table.GetEntityAsync("types", "tz")).Value!;

        Assert.Equal(new DateTimeOffset(2026, 1, 2, 5, 0, 0, TimeSpan.Zero), got.GetDateTimeOffset("When"));
    }

    [Fact]
    public async Task Binary_Of64KiB_IsAccepted_AndOneByteMoreIsBadRequest()
    {
        var exactly = new byte[65536];
        Random.Shared.NextBytes(exactly);

        var accepted = await _table.AddEntityAsync(new TableEntity("limits", "bin64k") { ["Data"] = exactly });
        var rejected = await _table.AddEntityAsync(new TableEntity("limits", "bin64k1") { ["Data"] = new byte[65537] });
        var stored = (await _table.GetEntityAsync("limits", "bin64k")).Value!;

        Assert.Equal(TableResultStatus.Ok, accepted.Status);
        Assert.Equal(exactly, stored.GetBinary("Data"));
        Assert.Equal(TableResultStatus.BadRequest, rejected.Status);
        Assert.Equal(400, rejected.HttpStatus);
        Assert.Equal("PropertyValueTooLarge", rejected.ErrorCode);
        Assert.Equal(TableResultStatus.NotFound, (await _table.GetEntityAsync("limits", "bin64k1")).Status);
    }

    [Fact]
    public async Task String_Of32KChars_IsAccepted_AndOneCharMoreIsBadRequest()
    {
        var accepted = await _table.AddEntityAsync(new TableEntity("limits", "str32k") { ["Text"] = new string('a', 32 * 1024) });
        var rejected = await _table.UpsertEntityAsync(new TableEntity("limits", "str32k1") { ["Text"] = new string('a', 32 * 1024 + 1) }, TableUpdateMode.Replace);

        Assert.Equal(TableResultStatus.Ok, accepted.Status);
        Assert.Equal(TableResultStatus.BadRequest, rejected.Status);
        Assert.Equal("PropertyValueTooLarge", rejected.ErrorCode);
    }

    [Fact]
    public void UnsupportedType_IsRejectedWhenSet()
    {
        var entity = new TableEntity("p", "r");

        var ex = Assert.Throws<ArgumentException>(() => entity["Dec"] = 1.5m);

        Assert.Contains("Property 'Dec' has unsupported type Decimal", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NullRemovesProperty_AndSystemNamesAreReserved()
    {
        var entity = new TableEntity("p", "r") { ["A"] = "a" };

        entity["A"] = null;

        Assert.Equal(0, entity.Count);
        Assert.Throws<ArgumentException>(() => entity["PartitionKey"] = "x");
        Assert.Throws<ArgumentException>(() => entity["odata.etag"] = "x");
    }
}
