using System.Globalization;

namespace ResponsesGateway.Storage.Tables;

/// <summary>Formats OData literals for <see cref="TableClient.CreateQueryFilter"/>, quoting strings safely.</summary>
internal static class TableQueryFilter
{
    public static string Create(FormattableString filter)
    {
        var args = filter.GetArguments();
        var literals = new object?[args.Length];
        for (var i = 0; i < args.Length; i++)
        {
            literals[i] = Literal(args[i]);
        }

        return string.Format(CultureInfo.InvariantCulture, filter.Format, literals);
    }

    public static string Literal(object? value) => value switch
    {
        null => "null",
        string s => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'",
        bool b => b ? "true" : "false",
        int i => i.ToString(CultureInfo.InvariantCulture),
        long l => l.ToString(CultureInfo.InvariantCulture) + "L",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        Guid g => "guid'" + g.ToString("D") + "'",
        DateTimeOffset dto => "datetime'" + dto.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture) + "'",
        DateTime dt => Literal(new DateTimeOffset(dt.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(dt, DateTimeKind.Utc) : dt)),
        byte[] bytes => "X'" + Convert.ToHexStringLower(bytes) + "'",
        _ => throw new ArgumentException($"Type {value.GetType().Name} cannot be used in a table filter."),
    };
}
