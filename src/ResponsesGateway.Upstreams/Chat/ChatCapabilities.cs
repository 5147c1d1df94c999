using ResponsesGateway.Core.Options;

namespace ResponsesGateway.Upstreams.Chat;

/// <summary>
/// What one Chat Completions upstream understands, read once from its <see cref="UpstreamOptions"/> <c>Chat…</c>
/// settings. Servers disagree on these fields (docs/architecture.md, chat rule R12), so the mapper asks this profile
/// instead of guessing per vendor.
/// </summary>
internal sealed record ChatCapabilities
{
    public string SystemRole { get; init; } = "system";

    public string MaxTokensField { get; init; } = "max_tokens";

    public string ReasoningField { get; init; } = "reasoning_content";

    public bool SendReasoningEffort { get; init; } = true;

    public bool JsonSchema { get; init; } = true;

    public bool ParallelToolCalls { get; init; } = true;

    public bool SendReasoningContent { get; init; }

    public bool ThinkTags { get; init; } = true;

    /// <summary>Hosted tools are a 400 instead of being dropped (<see cref="UpstreamOptions.ChatHostedTools"/>).</summary>
    public bool RejectHostedTools { get; init; }

    /// <summary>Seals and opens the summaries of the compaction emulation (<see cref="CompactionEnvelope"/>).</summary>
    public CompactionEnvelope Compaction { get; init; } = EphemeralCompaction;

    /// <summary>The summarising instruction of the compaction emulation.</summary>
    public string CompactionPrompt { get; init; } = GatewayOptions.DefaultCompactionPrompt;

    /// <summary>One random key per process when none is configured, shared by every chat upstream.</summary>
    internal static readonly CompactionEnvelope EphemeralCompaction = new(null);

    public static ChatCapabilities Default { get; } = new();

    /// <summary>Reads the profile; a value outside its documented set fails at startup, naming the setting.</summary>
    public static ChatCapabilities From(string name, UpstreamOptions options) => new()
    {
        SystemRole = OneOf(name, nameof(options.ChatSystemRole), options.ChatSystemRole, "system", "developer"),
        MaxTokensField = OneOf(name, nameof(options.ChatMaxTokensField), options.ChatMaxTokensField, "max_tokens", "max_completion_tokens"),
        ReasoningField = OneOf(name, nameof(options.ChatReasoningField), options.ChatReasoningField, "reasoning_content", "reasoning"),
        SendReasoningEffort = OneOf(name, nameof(options.ChatReasoningEffort), options.ChatReasoningEffort, "reasoning_effort", "none") == "reasoning_effort",
        JsonSchema = options.ChatJsonSchema,
        ParallelToolCalls = options.ChatParallelToolCalls,
        SendReasoningContent = options.ChatSendReasoningContent,
        ThinkTags = options.ChatThinkTags,
        RejectHostedTools = OneOf(name, nameof(options.ChatHostedTools), options.ChatHostedTools, "drop", "reject") == "reject",
    };

    private static string OneOf(string upstream, string setting, string? value, params string[] allowed)
    {
        var normalized = string.IsNullOrWhiteSpace(value) ? allowed[0] : value.Trim().ToLowerInvariant();
        return allowed.Contains(normalized)
            ? normalized
            : throw new InvalidOperationException($"Upstreams:{upstream}:{setting} must be one of: {string.Join(", ", allowed)}.");
    }
}
