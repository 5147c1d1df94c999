using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Azure;

namespace ResponsesGateway.Storage.Tables;

/// <summary>
/// Entity ⇄ OData JSON (minimal metadata). Types JSON cannot carry unambiguously get an
/// <c>name@odata.type</c> annotation: Int64 as a string, Binary as base64, DateTime, Guid, and Double
/// (so 2.0 is not read back as Int32).
/// </summary>
internal static class TableEntityJson
{
    private const string TypeSuffix = "@odata.type";
    private const string DateTimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

    public static bool IsReservedName(string name) =>
        name is "PartitionKey" or "RowKey" or "Timestamp" || name.StartsWith("odata.", StringComparison.Ordinal);

    public static ReadOnlyMemory<byte> Write(TableEntity entity)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("PartitionKey", entity.PartitionKey);
            writer.WriteString("RowKey", entity.RowKey);
            foreach (var (name, value) in entity)
            {
                WriteProperty(writer, name, value);
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenMemory;
    }

    public static ReadOnlyMemory<byte> WriteTableName(string tableName)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("TableName", tableName);
            writer.WriteEndObject();
        }

        return buffer.WrittenMemory;
    }

    private static void WriteProperty(Utf8JsonWriter writer, string name, object value)
    {
        switch (value)
        {
            case string s:
                writer.WriteString(name, s);
                break;
            case int i:
                writer.WriteNumber(name, i);
                break;
            case bool b:
                writer.WriteBoolean(name, b);
                break;
            case long l:
                writer.WriteString(name + TypeSuffix, "Edm.Int64");
                writer.WriteString(name, l.ToString(CultureInfo.InvariantCulture));
                break;
            case double d:
                writer.WriteString(name + TypeSuffix, "Edm.Double");
                if (double.IsFinite(d))
                {
                    writer.WriteNumber(name, d);
                }
                else
                {
                    // OData spells the non-finite values as strings.
                    writer.WriteString(name, double.IsNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
                }

                break;
            case byte[] bytes:
                writer.WriteString(name + TypeSuffix, "Edm.Binary");
                writer.WriteBase64String(name, bytes);
                break;
            case DateTimeOffset dto:
                writer.WriteString(name + TypeSuffix, "Edm.DateTime");
                writer.WriteString(name, dto.UtcDateTime.ToString(DateTimeFormat, CultureInfo.InvariantCulture));
                break;
            case Guid g:
                writer.WriteString(name + TypeSuffix, "Edm.Guid");
                writer.WriteString(name, g.ToString("D"));
                break;
            default:
                // TableEntity's indexer only admits the types above.
                throw new InvalidOperationException($"Unsupported property type {value.GetType().Name}.");
        }
    }

    /// <summary>Reads one entity object; <paramref name="headerETag"/> is used when the body has no odata.etag.</summary>
    public static TableEntity Read(JsonElement element, string? headerETag)
    {
        var entity = new TableEntity();
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            if (property.Name.EndsWith(TypeSuffix, StringComparison.Ordinal) && property.Value.ValueKind == JsonValueKind.String)
            {
                types[property.Name[..^TypeSuffix.Length]] = property.Value.GetString()!;
            }
        }

        string? bodyETag = null;
        foreach (var property in element.EnumerateObject())
        {
            var name = property.Name;
            var value = property.Value;
            if (name == "odata.etag")
            {
                bodyETag = value.GetString();
                continue;
            }

            if (name.EndsWith(TypeSuffix, StringComparison.Ordinal) || name.StartsWith("odata.", StringComparison.Ordinal)
                || value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            switch (name)
            {
                case "PartitionKey":
                    entity.PartitionKey = value.GetString() ?? "";
                    break;
                case "RowKey":
                    entity.RowKey = value.GetString() ?? "";
                    break;
                case "Timestamp":
                    entity.Timestamp = ParseDateTime(value.GetString()!);
                    break;
                default:
                    entity[name] = ReadValue(value, types.GetValueOrDefault(name));
                    break;
            }
        }

        var etag = bodyETag ?? headerETag;
        if (etag is not null)
        {
            entity.ETag = new ETag(etag);
        }

        return entity;
    }

    private static object ReadValue(JsonElement value, string? edmType) => edmType switch
    {
        "Edm.String" => value.GetString()!,
        "Edm.Binary" => value.GetBytesFromBase64(),
        "Edm.Int64" => value.ValueKind == JsonValueKind.String
            ? long.Parse(value.GetString()!, NumberStyles.Integer, CultureInfo.InvariantCulture)
            : value.GetInt64(),
        "Edm.Int32" => value.GetInt32(),
        "Edm.Double" => value.ValueKind == JsonValueKind.String ? ParseDouble(value.GetString()!) : value.GetDouble(),
        "Edm.Boolean" => value.GetBoolean(),
        "Edm.DateTime" => ParseDateTime(value.GetString()!),
        "Edm.Guid" => Guid.Parse(value.GetString()!),
        _ => ReadUntyped(value),
    };

    // Without an annotation the JSON kind decides: the service omits it for String, Int32, Boolean and
    // (sometimes) Double.
    private static object ReadUntyped(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            case JsonValueKind.Number:
                var raw = value.GetRawText();
                var looksIntegral = raw.AsSpan().IndexOfAny('.', 'e', 'E') < 0;
                // Box each branch separately: a plain ?: would convert the int to double first.
                return looksIntegral && value.TryGetInt32(out var i) ? (object)i : (object)value.GetDouble();
            default:
                return value.GetString() ?? value.GetRawText();
        }
    }

    private static double ParseDouble(string text) => text switch
    {
        "NaN" => double.NaN,
        "Infinity" or "INF" => double.PositiveInfinity,
        "-Infinity" or "-INF" => double.NegativeInfinity,
        _ => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    private static DateTimeOffset ParseDateTime(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}
