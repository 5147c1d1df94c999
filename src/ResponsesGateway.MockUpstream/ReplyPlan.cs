using System.Globalization;

namespace ResponsesGateway.MockUpstream;

internal enum TerminalKind
{
    Completed,
    Incomplete,
    Failed,
}

internal abstract class PlanItem
{
    public required string Id { get; init; }
}

internal sealed class MessagePlanItem : PlanItem
{
    public required string[] Deltas { get; init; }

    public required string Text { get; init; }

    public bool Incomplete { get; init; }
}

internal sealed class FunctionCallPlanItem : PlanItem
{
    public required string CallId { get; init; }

    public required string Name { get; init; }

    public required string[] ArgumentDeltas { get; init; }

    public required string Arguments { get; init; }
}

internal sealed class ReasoningPlanItem : PlanItem
{
    public required string[] SummaryDeltas { get; init; }

    public required string SummaryText { get; init; }

    public required string EncryptedContent { get; init; }
}

/// <summary>
/// What the mock is going to answer, independent of the wire protocol: the Responses and Chat writers (streaming and
/// not) all render the same plan, so deltas, final texts and usage always agree.
/// </summary>
internal sealed class ReplyPlan
{
    public const string ReplyPrefix = "Mock reply to: ";
    public const int MaxReplyChars = 200;
    public const int MaxEchoChars = 2000;
    public const string DefaultFunctionName = "get_weather";
    public const string EncryptedReasoning = "gAAAAABmock-encrypted-reasoning-content-opaque-0123456789abcdefABCDEF==";
    public const string ReasoningSummary = "**Considering the request**\n\nThe user sent a message; the mock will answer it deterministically.";
    public const int OversizedDeltaChars = 2 * 1024 * 1024;

    private static long s_counter;

    public required string ResponseId { get; init; }

    public required string ChatId { get; init; }

    public required long CreatedAt { get; init; }

    public List<PlanItem> Items { get; } = [];

    public TerminalKind Terminal { get; set; } = TerminalKind.Completed;

    /// <summary><c>max_output_tokens</c> or <c>content_filter</c> when <see cref="Terminal"/> is Incomplete.</summary>
    public string? IncompleteReason { get; set; }

    public int InputTokens { get; set; }

    public int OutputTokens { get; set; }

    public int ReasoningTokens { get; set; }

    public int TotalTokens => InputTokens + OutputTokens;

    public static ReplyPlan Build(RequestInfo request, Behavior behavior)
    {
        var seed = Fnv1a(request.BodyText) ^ (ulong)Interlocked.Increment(ref s_counter) * 0x9E3779B97F4A7C15UL;
        var ids = new IdSource(seed);
        var plan = new ReplyPlan
        {
            ResponseId = "resp_mock" + ids.Next(),
            ChatId = "chatcmpl-mock" + ids.Next(),
            CreatedAt = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            InputTokens = request.InputTokens,
        };

        var text = behavior.Kind == BehaviorKind.Echo
            ? Truncate(request.BodyText, MaxEchoChars)
            : Truncate(ReplyPrefix + request.UserText, MaxReplyChars);
        var deltas = SplitWords(text);
        var fnName = request.FirstFunctionName ?? DefaultFunctionName;
        var argument = request.FirstFunctionArgument;

        // A tool loop must end: once the client sends a tool result back, the tool behaviours answer with text.
        var kind = behavior.Kind;
        if ((kind is BehaviorKind.Tools or BehaviorKind.ParallelTools or BehaviorKind.TextAndTools) && request.LastIsToolResult)
        {
            kind = BehaviorKind.Normal;
        }

        switch (kind)
        {
            case BehaviorKind.Tools:
                plan.Items.Add(Call(ids, fnName, argument, "Paris"));
                break;

            case BehaviorKind.ParallelTools:
                plan.Items.Add(Call(ids, fnName, argument, "Paris"));
                plan.Items.Add(Call(ids, fnName, argument, "Tokyo"));
                break;

            case BehaviorKind.TextAndTools:
                plan.Items.Add(Message(ids, deltas));
                plan.Items.Add(Call(ids, fnName, argument, "Paris"));
                break;

            case BehaviorKind.Reasoning:
                plan.Items.Add(new ReasoningPlanItem
                {
                    Id = "rs_mock" + ids.Next(),
                    SummaryDeltas = SplitWords(ReasoningSummary),
                    SummaryText = ReasoningSummary,
                    EncryptedContent = EncryptedReasoning,
                });
                plan.Items.Add(Message(ids, deltas));
                break;

            case BehaviorKind.ThinkTags:
                plan.Items.Add(Message(ids, ["<thi", "nk>", "Considering", " the", " request.", "</th", "ink>", .. deltas]));
                break;

            case BehaviorKind.Length:
            case BehaviorKind.ContentFilter:
                var cut = deltas[..Math.Max(1, deltas.Length / 2)];
                plan.Items.Add(Message(ids, cut, incomplete: true));
                plan.Terminal = TerminalKind.Incomplete;
                plan.IncompleteReason = kind == BehaviorKind.Length ? "max_output_tokens" : "content_filter";
                break;

            case BehaviorKind.InbandError:
                plan.Items.Add(Message(ids, deltas));
                plan.Terminal = TerminalKind.Failed;
                break;

            case BehaviorKind.OversizedEvent:
                var big = " " + new string('x', OversizedDeltaChars);
                plan.Items.Add(Message(ids, [deltas[0], big, .. deltas[1..]]));
                break;

            default:
                plan.Items.Add(Message(ids, deltas));
                break;
        }

        foreach (var item in plan.Items)
        {
            switch (item)
            {
                case MessagePlanItem m:
                    plan.OutputTokens += m.Deltas.Length;
                    break;
                case FunctionCallPlanItem f:
                    plan.OutputTokens += f.ArgumentDeltas.Length;
                    break;
                case ReasoningPlanItem r:
                    plan.OutputTokens += r.SummaryDeltas.Length;
                    plan.ReasoningTokens += r.SummaryDeltas.Length;
                    break;
            }
        }

        return plan;
    }

    private static MessagePlanItem Message(IdSource ids, string[] deltas, bool incomplete = false) => new()
    {
        Id = "msg_mock" + ids.Next(),
        Deltas = deltas,
        Text = string.Concat(deltas),
        Incomplete = incomplete,
    };

    private static FunctionCallPlanItem Call(IdSource ids, string name, string argument, string value)
    {
        string[] fragments = ["{\"", argument, "\":\"", value, "\"}"];
        return new FunctionCallPlanItem
        {
            Id = "fc_mock" + ids.Next(),
            CallId = "call_mock" + ids.Next(),
            Name = name,
            ArgumentDeltas = fragments,
            Arguments = string.Concat(fragments),
        };
    }

    /// <summary>Cuts to at most <paramref name="max"/> chars without splitting a surrogate pair.</summary>
    internal static string Truncate(string s, int max)
    {
        if (s.Length <= max)
        {
            return s;
        }

        var n = max;
        if (n > 0 && char.IsHighSurrogate(s[n - 1]))
        {
            n--;
        }

        return s[..n];
    }

    /// <summary>Word-sized deltas: every delta but the first starts at a space ("Mock", " reply", " to:").</summary>
    internal static string[] SplitWords(string text)
    {
        if (text.Length == 0)
        {
            return [string.Empty];
        }

        var parts = new List<string>();
        var start = 0;
        for (var i = 1; i < text.Length; i++)
        {
            if (char.IsWhiteSpace(text[i]) && !char.IsWhiteSpace(text[i - 1]))
            {
                parts.Add(text[start..i]);
                start = i;
            }
        }

        parts.Add(text[start..]);
        return [.. parts];
    }

    private static ulong Fnv1a(string s)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in s)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return hash;
    }

    private sealed class IdSource(ulong seed)
    {
        private ulong _state = seed;

        public string Next()
        {
            // splitmix64
            _state += 0x9E3779B97F4A7C15UL;
            var z = _state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            return z.ToString("x16", CultureInfo.InvariantCulture);
        }
    }
}
