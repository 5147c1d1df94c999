using System.Collections.Concurrent;
using System.Globalization;
using Azure.Data.Tables;

namespace ResponsesGateway.Storage.Responses;

/// <summary>
/// Which chains stored a turn on which day, so the retention sweep reads what may have expired, not the table.
/// <list type="bullet">
/// <item>Bucket rows: PartitionKey <c>x</c> + the UTC day (<c>x20261204</c>), RowKey the chain's partition. Chain
/// partitions are 32 hex digits, so the two never meet; and days sort as strings, so the expired buckets are one
/// PartitionKey range.</item>
/// <item>The first turn a chain stores on a day adds its bucket row, alongside the turn (the save fails if it does);
/// this process remembers what it added, so it is one extra write per chain per day, not per turn.</item>
/// <item>The sweep lease: one row, taken with a conditional insert or an ETag-checked update once it has expired.</item>
/// </list>
/// </summary>
internal sealed class ExpiryIndex
{
    public const string BucketPrefix = "x";
    public const string LeasePartition = "lease";
    public const string LeaseRow = "sweep";
    public const string LeaseExpiresAt = "ExpiresAt";

    // What this process already indexed; cleared when it grows large (re-adding a row is harmless).
    private readonly ConcurrentDictionary<string, byte> _indexed = new(StringComparer.Ordinal);

    public static string BucketOf(long createdAtUnixSeconds) =>
        BucketPrefix + DateTimeOffset.FromUnixTimeSeconds(createdAtUnixSeconds).UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    /// <summary>The filter of every bucket row of the days before the cutoff's day.</summary>
    public static string ExpiredBuckets(DateTimeOffset cutoff) => TableClient.CreateQueryFilter(
        $"PartitionKey ge {BucketPrefix} and PartitionKey lt {BucketOf(cutoff.ToUnixTimeSeconds())}");

    /// <summary>The bucket row to write before storing a turn, or null when this process already wrote it.</summary>
    public TableEntity? RowToAdd(string chain, long createdAtUnixSeconds)
    {
        var bucket = BucketOf(createdAtUnixSeconds);
        if (_indexed.Count > 100_000)
        {
            _indexed.Clear();
        }
        return _indexed.ContainsKey(bucket + "/" + chain) ? null : new TableEntity(bucket, chain);
    }

    public void Added(TableEntity row) => _indexed.TryAdd(row.PartitionKey + "/" + row.RowKey, 0);
}
