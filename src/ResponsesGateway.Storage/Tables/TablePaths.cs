using System.Text.RegularExpressions;

namespace ResponsesGateway.Storage.Tables;

/// <summary>Builds the encoded request paths; keys are escaped the way the service expects on the wire.</summary>
internal static partial class TablePaths
{
    public static void ValidateTableName(string tableName)
    {
        ArgumentException.ThrowIfNullOrEmpty(tableName);
        if (!TableNamePattern().IsMatch(tableName) || string.Equals(tableName, "tables", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException(
                $"'{tableName}' is not a valid table name: 3-63 letters or digits, starting with a letter, not 'tables'.",
                nameof(tableName));
        }
    }

    /// <summary><c>{base}/{table}(PartitionKey='pk',RowKey='rk')</c>.</summary>
    public static string Entity(string basePath, string table, string partitionKey, string rowKey) =>
        $"{basePath}/{table}(PartitionKey='{EscapeKey(partitionKey)}',RowKey='{EscapeKey(rowKey)}')";

    /// <summary>OData string literal rules: a single quote is doubled, then the value is percent-encoded.</summary>
    public static string EscapeKey(string key) => Uri.EscapeDataString(key.Replace("'", "''", StringComparison.Ordinal));

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9]{2,62}$")]
    private static partial Regex TableNamePattern();
}
