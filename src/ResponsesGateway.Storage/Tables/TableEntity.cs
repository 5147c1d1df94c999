using System.Collections;
using Azure;

namespace ResponsesGateway.Storage.Tables;

/// <summary>
/// A table entity: keys, system properties and a bag of typed properties. Supported property types are
/// string, byte[], long, int, double, bool, DateTimeOffset (DateTime is converted) and Guid, which map
/// to the Edm types the Table service stores. Setting a property to null removes it, because the
/// service does not store nulls.
/// </summary>
public sealed class TableEntity : IEnumerable<KeyValuePair<string, object>>
{
    private readonly Dictionary<string, object> _properties = new(StringComparer.Ordinal);

    public TableEntity()
    {
    }

    public TableEntity(string partitionKey, string rowKey)
    {
        PartitionKey = partitionKey;
        RowKey = rowKey;
    }

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = "";

    /// <summary>Set by the service; ignored on writes (use the ETag argument of UpdateEntityAsync instead).</summary>
    public ETag ETag { get; set; }

    /// <summary>Set by the service; never sent.</summary>
    public DateTimeOffset? Timestamp { get; set; }

    /// <summary>Number of custom properties (keys and system properties excluded).</summary>
    public int Count => _properties.Count;

    public IEnumerable<string> Keys => _properties.Keys;

    /// <summary>Gets a custom property (null when absent) or sets it (null removes it).</summary>
    public object? this[string name]
    {
        get => _properties.TryGetValue(name, out var value) ? value : null;
        set
        {
            ValidateName(name);
            if (value is null)
            {
                _properties.Remove(name);
            }
            else
            {
                _properties[name] = Normalize(name, value);
            }
        }
    }

    public bool ContainsKey(string name) => _properties.ContainsKey(name);

    public bool Remove(string name) => _properties.Remove(name);

    public bool TryGetValue(string name, out object? value)
    {
        var found = _properties.TryGetValue(name, out var v);
        value = v;
        return found;
    }

    public string? GetString(string name) => Get<string>(name);

    public byte[]? GetBinary(string name) => Get<byte[]>(name);

    public bool? GetBoolean(string name) => GetStruct<bool>(name);

    public Guid? GetGuid(string name) => GetStruct<Guid>(name);

    public DateTimeOffset? GetDateTimeOffset(string name) => GetStruct<DateTimeOffset>(name);

    public int? GetInt32(string name) => GetStruct<int>(name);

    /// <summary>An Int32 value widens, because small numbers written elsewhere may lack the Edm.Int64 annotation.</summary>
    public long? GetInt64(string name) => this[name] switch
    {
        null => null,
        int i => i,
        var other => (long)other,
    };

    /// <summary>An integral value widens, because a service may drop the Edm.Double annotation of e.g. 2.0.</summary>
    public double? GetDouble(string name) => this[name] switch
    {
        null => null,
        int i => i,
        long l => l,
        var other => (double)other,
    };

    public IEnumerator<KeyValuePair<string, object>> GetEnumerator() => _properties.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    // Reads assume the caller knows the type; a mismatch is a programming error, so it throws.
    private T? Get<T>(string name) where T : class => this[name] switch
    {
        null => null,
        T typed => typed,
        var other => throw new InvalidCastException($"Property '{name}' is {other.GetType().Name}, not {typeof(T).Name}."),
    };

    private T? GetStruct<T>(string name) where T : struct => this[name] switch
    {
        null => null,
        T typed => typed,
        var other => throw new InvalidCastException($"Property '{name}' is {other.GetType().Name}, not {typeof(T).Name}."),
    };

    private static void ValidateName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (TableEntityJson.IsReservedName(name))
        {
            throw new ArgumentException(
                $"'{name}' is a system property; use the PartitionKey, RowKey, ETag or Timestamp members.", nameof(name));
        }
    }

    private static object Normalize(string name, object value) => value switch
    {
        string or byte[] or long or int or double or bool or Guid => value,
        DateTimeOffset dto => dto.ToUniversalTime(),
        // Edm.DateTime is UTC; an unspecified DateTime is taken as UTC rather than as local time.
        DateTime dt => new DateTimeOffset(dt.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(dt, DateTimeKind.Utc) : dt.ToUniversalTime()),
        _ => throw new ArgumentException(
            $"Property '{name}' has unsupported type {value.GetType().Name}; use string, byte[], long, int, double, bool, DateTimeOffset or Guid.",
            nameof(value)),
    };
}
