using Azure.Core.Pipeline;
using ResponsesGateway.Storage.Tables;

namespace ResponsesGateway.Storage.Tests.Tables;

public sealed class SharedKeyLiteSigningTests
{
    [Fact]
    public void EmulatorPathStyle_RepeatsTheAccountName()
    {
        var resource = SharedKeyLitePolicy.CanonicalizedResource("devstoreaccount1", new Uri("http://127.0.0.1:10002/devstoreaccount1/Tables"));

        Assert.Equal("/devstoreaccount1/devstoreaccount1/Tables", resource);
    }

    [Fact]
    public void HostStyle_HasTheAccountOnce_AndIgnoresQueryExceptComp()
    {
        Assert.Equal(
            "/myaccount/mytable()",
            SharedKeyLitePolicy.CanonicalizedResource("myaccount", new Uri("https://myaccount.table.core.windows.net/mytable()?$filter=a%20eq%201&$top=5")));
        Assert.Equal(
            "/myaccount/mytable?comp=acl",
            SharedKeyLitePolicy.CanonicalizedResource("myaccount", new Uri("https://myaccount.table.core.windows.net/mytable?comp=acl&timeout=5")));
    }

    [Fact]
    public void EncodedKeys_AreSignedAsSentOnTheWire()
    {
        var path = TablePaths.Entity("/acct", "t1", "o'clock", "a b/c");
        var uri = new Uri("https://acct.table.core.windows.net" + path);

        Assert.Equal("/acct/t1(PartitionKey='o%27%27clock',RowKey='a%20b%2Fc')", path);
        Assert.Equal("/acct/acct/t1(PartitionKey='o%27%27clock',RowKey='a%20b%2Fc')", SharedKeyLitePolicy.CanonicalizedResource("acct", uri));
    }

    [Fact]
    public void Policy_SignsDateAndCanonicalResource_WithTheAccountKey()
    {
        // Expected value computed independently (Python hmac) for this date and emulator resource.
        var credential = new TableSharedKeyCredential("devstoreaccount1", TableConnectionString.DevelopmentAccountKey);
        var message = HttpPipelineBuilder.Build(new TableClientOptions()).CreateMessage();
        message.Request.Uri.Reset(new Uri("http://127.0.0.1:10002/devstoreaccount1/Tables"));
        message.Request.Headers.SetValue("x-ms-date", "Sun, 11 Oct 2009 19:52:39 GMT");

        new SharedKeyLitePolicy(credential).OnSendingRequest(message);

        Assert.True(message.Request.Headers.TryGetValue("Authorization", out var authorization));
        Assert.Equal("SharedKeyLite devstoreaccount1:ErXwXhFUdsOaklxX2/UTRDcWl4T591pmLcUzbBU+SRI=", authorization);
    }

    [Fact]
    public void QueryFilter_QuotesAndTypesLiterals()
    {
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {"o'clock"} and N gt {5L} and I eq {3} and B eq {true} and G eq {Guid.Empty} and D ge {new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero)}");

        Assert.Equal(
            "PartitionKey eq 'o''clock' and N gt 5L and I eq 3 and B eq true and G eq guid'00000000-0000-0000-0000-000000000000' and D ge datetime'2026-11-01T00:00:00.0000000Z'",
            filter);
    }
}
