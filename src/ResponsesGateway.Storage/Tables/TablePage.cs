namespace ResponsesGateway.Storage.Tables;

/// <summary>
/// One page of query results. A page can be empty and still carry a continuation token:
/// the service may stop at partition boundaries or its 5 s execution limit.
/// </summary>
public sealed class TablePage
{
    internal TablePage(IReadOnlyList<TableEntity> values, string? continuationToken)
    {
        Values = values;
        ContinuationToken = continuationToken;
    }

    public IReadOnlyList<TableEntity> Values { get; }

    /// <summary>
    /// Opaque token for the next page (the service's NextPartitionKey and NextRowKey joined by a space,
    /// as Azure.Data.Tables does), or null when this is the last page.
    /// </summary>
    public string? ContinuationToken { get; }
}
