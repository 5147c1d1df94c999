using System.Globalization;

namespace ResponsesGateway.MockUpstream;

internal enum BehaviorKind
{
    Normal,
    Error,
    Slow,
    Stall,
    Disconnect,
    Tools,
    ParallelTools,
    TextAndTools,
    Reasoning,
    ThinkTags,
    Length,
    ContentFilter,
    InbandError,
    MalformedSse,
    TruncatedJson,
    OversizedEvent,
    Echo,
}

/// <summary>A misbehaviour chosen by the model name (<c>mock-&lt;behaviour&gt;[-&lt;arg&gt;]</c>) or the <c>x-mock-behavior</c> header.</summary>
internal readonly record struct Behavior(BehaviorKind Kind, int Arg)
{
    public const string HeaderName = "x-mock-behavior";

    public static readonly Behavior Normal = new(BehaviorKind.Normal, 0);

    // Longest names first so that "parallel-tools" / "text-and-tools" are not mistaken for something shorter.
    private static readonly (string Name, BehaviorKind Kind, int DefaultArg)[] Table =
    [
        ("oversized-event", BehaviorKind.OversizedEvent, 0),
        ("text-and-tools", BehaviorKind.TextAndTools, 0),
        ("parallel-tools", BehaviorKind.ParallelTools, 0),
        ("content-filter", BehaviorKind.ContentFilter, 0),
        ("truncated-json", BehaviorKind.TruncatedJson, 0),
        ("malformed-sse", BehaviorKind.MalformedSse, 0),
        ("inband-error", BehaviorKind.InbandError, 0),
        ("think-tags", BehaviorKind.ThinkTags, 0),
        ("disconnect", BehaviorKind.Disconnect, 3),
        ("reasoning", BehaviorKind.Reasoning, 0),
        ("length", BehaviorKind.Length, 0),
        ("error", BehaviorKind.Error, 500),
        ("stall", BehaviorKind.Stall, 1000),
        ("tools", BehaviorKind.Tools, 0),
        ("slow", BehaviorKind.Slow, 1000),
        ("echo", BehaviorKind.Echo, 0),
    ];

    /// <summary>The header wins when present (and recognised); otherwise the model name.</summary>
    public static Behavior Resolve(string? header, string? model)
    {
        if (!string.IsNullOrWhiteSpace(header))
        {
            var fromHeader = Parse(header.Trim());
            if (fromHeader.Kind != BehaviorKind.Normal || IsExplicitNormal(header))
            {
                return fromHeader;
            }
        }

        if (model is not null && model.StartsWith("mock-", StringComparison.OrdinalIgnoreCase))
        {
            return Parse(model);
        }

        return Normal;
    }

    private static bool IsExplicitNormal(string header)
    {
        var h = header.Trim();
        return h.Equals("normal", StringComparison.OrdinalIgnoreCase) || h.Equals("none", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Parses <c>[mock-]name[-arg]</c>; anything unrecognised is <see cref="Normal"/>.</summary>
    public static Behavior Parse(string value)
    {
        var s = value.AsSpan().Trim();
        if (s.StartsWith("mock-", StringComparison.OrdinalIgnoreCase))
        {
            s = s[5..];
        }

        foreach (var (name, kind, defaultArg) in Table)
        {
            if (!s.StartsWith(name, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (s.Length == name.Length)
            {
                return new Behavior(kind, defaultArg);
            }

            if (s[name.Length] != '-')
            {
                continue;
            }

            var rest = s[(name.Length + 1)..];
            var digits = 0;
            while (digits < rest.Length && char.IsAsciiDigit(rest[digits]))
            {
                digits++;
            }

            var arg = digits > 0 && int.TryParse(rest[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : defaultArg;
            return new Behavior(kind, arg);
        }

        return Normal;
    }
}
