using System.Collections;
using System.Reflection;
using ResponsesGateway.Core.Options;

namespace ResponsesGateway.Infra.Tests;

/// <summary>Where a contract setting is deliberately absent.</summary>
internal enum NotProvisionedIn
{
    /// <summary>Not in the Bicep app settings (local or standalone-server only).</summary>
    Azure,

    /// <summary>Not in local.settings.sample.json (Azure only).</summary>
    LocalSample,
}

internal sealed record ContractException(string Setting, NotProvisionedIn Absent, string Reason);

/// <summary>
/// A setting the code reads, as app-setting segments joined by <c>__</c>. Placeholder segments:
/// <c>&lt;name&gt;</c> (a dictionary key or the name of a named section) and <c>&lt;index&gt;</c> (a list index).
/// </summary>
internal sealed record SettingPattern(IReadOnlyList<string> Segments)
{
    public const string Name = "<name>";
    public const string Index = "<index>";

    public override string ToString() => string.Join("__", Segments);

    /// <summary>Does a concrete setting (e.g. <c>Gateway__ApiKeys__default</c>) or a documented pattern match?</summary>
    public bool Matches(IReadOnlyList<string> setting)
    {
        if (setting.Count != Segments.Count)
        {
            return false;
        }
        for (var i = 0; i < Segments.Count; i++)
        {
            var expected = Segments[i];
            var actual = setting[i];
            var ok = expected switch
            {
                Name => actual.Length > 0 && !IsIndexPlaceholder(actual),
                Index => actual == Index || (actual.Length > 0 && actual.All(char.IsAsciiDigit)),
                _ => string.Equals(expected, actual, StringComparison.OrdinalIgnoreCase),
            };
            if (!ok)
            {
                return false;
            }
        }
        return true;
    }

    private static bool IsIndexPlaceholder(string segment) => segment == Index;
}

/// <summary>
/// The configuration contract, derived by reflection from the options classes in <c>ResponsesGateway.Core.Options</c>:
/// every class there with a <c>SectionName</c> constant is a section; dictionary-typed properties are keyed by a name.
/// </summary>
internal static class ConfigurationContract
{
    public static readonly string[] Sections = ["Gateway", "Upstreams", "Storage", "Background"];

    /// <summary>
    /// Options classes bound as a dictionary of named instances (<c>Section:{name}:Property</c>) rather than as one object.
    /// UpstreamOptions: the host binds every child of <c>Upstreams</c> as one upstream (GatewayServiceCollectionExtensions).
    /// </summary>
    private static readonly Type[] NamedSectionTypes = [typeof(UpstreamOptions)];

    /// <summary>
    /// The one list of deliberate gaps between the two places settings are provisioned. Everything else the options
    /// classes read must be in both infra/**/*.bicep and local.settings.sample.json.
    /// </summary>
    public static readonly ContractException[] Exceptions =
    [
        new("Storage__ConnectionString", NotProvisionedIn.Azure,
            "SharedKey connection string, used with Azurite (UseDevelopmentStorage=true). The Azure storage account has shared key access disabled; the app reaches it with Storage__TableEndpoint and its managed identity."),
        new("Storage__SweepIntervalMinutes", NotProvisionedIn.Azure,
            "Read only by the standalone server's sweep loop. In Azure the Functions app sweeps on a fixed hourly timer trigger (RetentionFunction), so the setting would have no effect there."),
        new("Gateway__WebSocketConnectionLimitSeconds", NotProvisionedIn.Azure,
            "WebSocket mode runs only on the standalone server: the Functions app cannot hold a socket on an HTTP trigger and answers an upgrade with 426, so the setting would have no effect there."),
        new("Background__Runner", NotProvisionedIn.Azure,
            "Read only by the standalone server's queue consumer. On Functions the queue trigger runs the background queue, so the setting would have no effect there."),
        new("Background__MaxConcurrentRuns", NotProvisionedIn.Azure,
            "The standalone server's queue consumer only; on Functions the host's queue trigger settings (host.json extensions.queues.batchSize) bound concurrent runs."),
        new("Background__MaxDequeueCount", NotProvisionedIn.Azure,
            "The standalone server's queue consumer only; on Functions it is host.json extensions.queues.maxDequeueCount."),
        new("Background__QueueEndpoint", NotProvisionedIn.LocalSample,
            "Azure queue endpoint used with a managed identity; locally Storage__ConnectionString (UseDevelopmentStorage=true) names Azurite's queue service."),
        new("Storage__TableEndpoint", NotProvisionedIn.LocalSample,
            "Azure table endpoint used with a managed identity; locally Storage__ConnectionString names Azurite, and setting both would be ambiguous."),
        new("Storage__ManagedIdentityClientId", NotProvisionedIn.LocalSample,
            "Client id of the app's user-assigned identity in Azure; there is no managed identity on a developer machine."),
    ];

    public static IReadOnlyList<Type> OptionsTypes()
    {
        var types = typeof(GatewayOptions).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && t.Namespace == typeof(GatewayOptions).Namespace)
            .Where(t => SectionNameOf(t) is not null)
            .OrderBy(t => t.Name, StringComparer.Ordinal)
            .ToList();
        return types;
    }

    public static string? SectionNameOf(Type type) =>
        type.GetField("SectionName", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true } field
            ? field.GetRawConstantValue() as string
            : null;

    /// <summary>Every setting the options classes read, e.g. <c>Gateway__ApiKeys__&lt;name&gt;</c>, <c>Upstreams__&lt;name&gt;__Kind</c>.</summary>
    public static IReadOnlyList<SettingPattern> ExpectedSettings()
    {
        var result = new List<SettingPattern>();
        foreach (var type in OptionsTypes())
        {
            var prefix = new List<string> { SectionNameOf(type)! };
            if (NamedSectionTypes.Contains(type))
            {
                prefix.Add(SettingPattern.Name);
            }
            Walk(type, prefix, result, depth: 0);
        }
        return result;
    }

    public static IReadOnlyList<string> Split(string setting) =>
        setting.Replace(":", "__", StringComparison.Ordinal).Split("__");

    public static bool IsContractSetting(string setting) =>
        Sections.Any(s => setting.StartsWith(s + "__", StringComparison.OrdinalIgnoreCase) || setting.StartsWith(s + ":", StringComparison.OrdinalIgnoreCase));

    public static SettingPattern? Find(IReadOnlyList<SettingPattern> expected, string setting)
    {
        var segments = Split(setting);
        return expected.FirstOrDefault(p => p.Matches(segments));
    }

    private static void Walk(Type type, List<string> prefix, List<SettingPattern> result, int depth)
    {
        if (depth > 5)
        {
            throw new InvalidOperationException($"options nesting too deep at {string.Join("__", prefix)}");
        }
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).OrderBy(p => p.MetadataToken))
        {
            if (property.GetIndexParameters().Length > 0 || property.GetMethod is not { IsPublic: true })
            {
                continue;
            }
            var settable = property.SetMethod is { IsPublic: true };
            var path = new List<string>(prefix) { property.Name };
            AddValue(property.PropertyType, path, settable, result, depth);
        }
    }

    private static void AddValue(Type valueType, List<string> path, bool settable, List<SettingPattern> result, int depth)
    {
        var type = Nullable.GetUnderlyingType(valueType) ?? valueType;
        if (IsLeaf(type))
        {
            if (settable)
            {
                result.Add(new SettingPattern(path));
            }
            return;
        }
        if (DictionaryValueType(type) is { } dictionaryValue)
        {
            // The configuration binder fills a dictionary through its getter too.
            AddValue(dictionaryValue, [.. path, SettingPattern.Name], settable: true, result, depth + 1);
            return;
        }
        if (EnumerableElementType(type) is { } element)
        {
            AddValue(element, [.. path, SettingPattern.Index], settable: true, result, depth + 1);
            return;
        }
        if (type.IsClass)
        {
            Walk(type, path, result, depth + 1);
        }
    }

    private static bool IsLeaf(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
        || type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(Guid) || type == typeof(Uri);

    private static Type? DictionaryValueType(Type type)
    {
        foreach (var candidate in new[] { type }.Concat(type.GetInterfaces()))
        {
            if (candidate.IsGenericType
                && (candidate.GetGenericTypeDefinition() == typeof(IDictionary<,>) || candidate.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>))
                && candidate.GetGenericArguments()[0] == typeof(string))
            {
                return candidate.GetGenericArguments()[1];
            }
        }
        return null;
    }

    private static Type? EnumerableElementType(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }
        if (!typeof(IEnumerable).IsAssignableFrom(type))
        {
            return null;
        }
        foreach (var candidate in new[] { type }.Concat(type.GetInterfaces()))
        {
            if (candidate.IsGenericType && candidate.GetGenericTypeDefinition() == typeof(IEnumerable<>))
            {
                return candidate.GetGenericArguments()[0];
            }
        }
        return null;
    }
}
