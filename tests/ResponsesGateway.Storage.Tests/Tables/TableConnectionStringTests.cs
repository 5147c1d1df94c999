using ResponsesGateway.Storage.Tables;

namespace ResponsesGateway.Storage.Tests.Tables;

public sealed class TableConnectionStringTests
{
    private const string SampleKey = "c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0xMjM0NTY3ODkw"; // base64 of a dummy value

    [Fact]
    public void UseDevelopmentStorage_MapsToAzuriteWellKnownAccount()
    {
        var parsed = TableConnectionString.Parse("UseDevelopmentStorage=true");

        Assert.Equal(new Uri("http://127.0.0.1:10002/devstoreaccount1"), parsed.TableEndpoint);
        Assert.Equal("devstoreaccount1", parsed.AccountName);
        Assert.Equal(Convert.FromBase64String(TableConnectionString.DevelopmentAccountKey), parsed.Credential.KeyBytes);
    }

    [Fact]
    public void UseDevelopmentStorage_WithProxyUri_UsesProxyHostOnTablePort()
    {
        var parsed = TableConnectionString.Parse("UseDevelopmentStorage=true;DevelopmentStorageProxyUri=http://azurite");

        Assert.Equal(new Uri("http://azurite:10002/devstoreaccount1"), parsed.TableEndpoint);
    }

    [Fact]
    public void FullAzureString_BuildsHostStyleEndpointFromAccountAndSuffix()
    {
        var parsed = TableConnectionString.Parse(
            $"DefaultEndpointsProtocol=https;AccountName=myaccount;AccountKey={SampleKey};EndpointSuffix=core.windows.net");

        Assert.Equal(new Uri("https://myaccount.table.core.windows.net"), parsed.TableEndpoint);
        Assert.Equal("myaccount", parsed.AccountName);
        Assert.Equal(Convert.FromBase64String(SampleKey), parsed.Credential.KeyBytes);
    }

    [Fact]
    public void ProtocolAndSuffix_DefaultToHttpsAndPublicCloud_AndKeysAreCaseInsensitive()
    {
        var parsed = TableConnectionString.Parse($" accountname = acct2 ; ACCOUNTKEY={SampleKey} ;");

        Assert.Equal(new Uri("https://acct2.table.core.windows.net"), parsed.TableEndpoint);
    }

    [Fact]
    public void SovereignSuffixAndHttp_AreHonoured()
    {
        var parsed = TableConnectionString.Parse(
            $"DefaultEndpointsProtocol=http;AccountName=cn1;AccountKey={SampleKey};EndpointSuffix=core.chinacloudapi.cn");

        Assert.Equal(new Uri("http://cn1.table.core.chinacloudapi.cn"), parsed.TableEndpoint);
    }

    [Fact]
    public void ExplicitTableEndpoint_WinsAndLosesTrailingSlash()
    {
        var parsed = TableConnectionString.Parse(
            $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={SampleKey};TableEndpoint=http://127.0.0.1:12345/devstoreaccount1/;");

        Assert.Equal("http://127.0.0.1:12345/devstoreaccount1", parsed.TableEndpoint.ToString());
    }

    [Theory]
    [InlineData("AccountName=acct", "AccountKey")]
    [InlineData("AccountKey=" + SampleKey, "AccountName")]
    [InlineData("DefaultEndpointsProtocol=https;EndpointSuffix=core.windows.net", "AccountName")]
    public void MissingParts_ThrowNamingThePart(string connectionString, string missing)
    {
        var ex = Assert.Throws<FormatException>(() => TableConnectionString.Parse(connectionString));

        Assert.Contains($"missing '{missing}'", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(SampleKey, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MalformedKey_IsReportedWithoutEchoingIt()
    {
        const string badKey = "not*base64*secret";

        var ex = Assert.Throws<FormatException>(() => TableConnectionString.Parse($"AccountName=a1b;AccountKey={badKey}"));

        Assert.Equal("Storage connection string: AccountKey is not valid base64.", ex.Message);
        Assert.DoesNotContain(badKey, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SegmentWithoutEquals_IsReportedByPositionNotValue()
    {
        var ex = Assert.Throws<FormatException>(() => TableConnectionString.Parse($"AccountName=a;{SampleKey}"));

        Assert.Equal("Storage connection string: segment 2 is not of the form Key=Value.", ex.Message);
    }

    [Fact]
    public void SharedAccessSignature_IsRejectedClearly()
    {
        var ex = Assert.Throws<FormatException>(() => TableConnectionString.Parse("TableEndpoint=https://a.table.core.windows.net;SharedAccessSignature=sv=1&sig=x"));

        Assert.Contains("SharedAccessSignature is not supported", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sig=x", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidProtocol_IsRejected()
    {
        var ex = Assert.Throws<FormatException>(() => TableConnectionString.Parse($"DefaultEndpointsProtocol=ftp;AccountName=a;AccountKey={SampleKey}"));

        Assert.Contains("DefaultEndpointsProtocol", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToString_RedactsTheKey()
    {
        var parsed = TableConnectionString.Parse($"AccountName=acct;AccountKey={SampleKey}");

        Assert.Equal("TableEndpoint=https://acct.table.core.windows.net/;AccountName=acct;AccountKey=***", parsed.ToString());
        Assert.Equal("SharedKey(acct)", parsed.Credential.ToString());
    }

    [Fact]
    public void TableClient_WithBadConnectionString_ThrowsFormatException()
    {
        Assert.Throws<FormatException>(() => new TableClient("AccountName=only", "sometable"));
    }

    [Fact]
    public void Settings_ToString_RedactsConnectionString()
    {
        var settings = new TableStorageSettings { ConnectionString = $"AccountName=a;AccountKey={SampleKey}" };

        Assert.DoesNotContain(SampleKey, settings.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Create_WithoutConnectionStringOrEndpoint_Throws()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => TableClient.Create(new TableStorageSettings(), "sometable"));

        Assert.Equal("Table storage is not configured: set a connection string or an endpoint.", ex.Message);
    }

    [Theory]
    [InlineData("ab")]
    [InlineData("1abc")]
    [InlineData("has-dash")]
    [InlineData("tables")]
    public void InvalidTableNames_AreRejected(string name)
    {
        Assert.Throws<ArgumentException>(() => new TableClient("UseDevelopmentStorage=true", name));
    }
}
