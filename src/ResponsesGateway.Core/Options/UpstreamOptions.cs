namespace ResponsesGateway.Core.Options;

/// <summary>
/// One upstream provider, bound from <c>Upstreams:{name}</c>. The first upstream whose <see cref="Models"/>
/// patterns match the requested model serves the request.
/// </summary>
public sealed class UpstreamOptions
{
    public const string SectionName = "Upstreams";

    /// <summary><c>responses</c> (speaks /v1/responses natively) or <c>chat</c> (Chat Completions only).</summary>
    public string Kind { get; set; } = UpstreamKinds.Responses;

    /// <summary>Base URL up to and including the version segment, e.g. <c>https://api.openai.com/v1</c>.</summary>
    public string BaseUrl { get; set; } = "";

    /// <summary>The upstream's own key. Never the client's key.</summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// Header that carries <see cref="ApiKey"/>: <c>Authorization</c> (sent as <c>Bearer key</c>, the default)
    /// or any other header name such as Azure OpenAI's <c>api-key</c>.
    /// </summary>
    public string ApiKeyHeader { get; set; } = "Authorization";

    /// <summary><c>key</c> (default) or <c>managed-identity</c> (Entra ID token, e.g. for Azure OpenAI).</summary>
    public string Auth { get; set; } = UpstreamAuthModes.Key;

    /// <summary>Client id of the user-assigned identity for <c>managed-identity</c>; empty for the system identity.</summary>
    public string? ManagedIdentityClientId { get; set; }

    /// <summary>Token scope for <c>managed-identity</c>.</summary>
    public string TokenScope { get; set; } = "https://cognitiveservices.azure.com/.default";

    /// <summary>Comma-separated model patterns this upstream serves; <c>*</c> matches any run of characters.</summary>
    public string Models { get; set; } = "*";

    /// <summary>Optional renames, <c>client-name=upstream-name</c> pairs separated by <c>;</c> or <c>,</c>.</summary>
    public string? ModelMap { get; set; }

    /// <summary>
    /// Name of another configured upstream that serves this upstream's models when this one fails before answering
    /// (unreachable, timed out, 401/403, 408, 429 or 5xx after its retries). It gets the same model, renamed by its own
    /// <see cref="ModelMap"/> if listed there. Never used once a stream has started.
    /// </summary>
    public string? Fallback { get; set; }

    /// <summary>
    /// Whether the message of this upstream's 4xx error bodies reaches the client as is (default false). Off, the
    /// client gets the upstream's status, <c>type</c>, <c>param</c> and <c>code</c> with the gateway's own message,
    /// because a provider's message names the operator's account (organisation id, quota). Turn on only for an
    /// upstream whose messages are safe for every tenant to read, such as a self-hosted model server.
    /// </summary>
    public bool PassErrorMessages { get; set; }

    // Capability profile of a `chat` upstream (ignored for `responses`). The defaults suit a generic OpenAI-compatible
    // /chat/completions server (vLLM, llama.cpp, Ollama, LiteLLM, most hosted vendors).

    /// <summary>
    /// <c>chat</c> only: the role <c>instructions</c> and system/developer input messages are sent with, <c>system</c>
    /// (default; understood everywhere) or <c>developer</c> (OpenAI reasoning models).
    /// </summary>
    public string ChatSystemRole { get; set; } = "system";

    /// <summary>
    /// <c>chat</c> only: the field <c>max_output_tokens</c> is sent as, <c>max_tokens</c> (default; what most
    /// compatible servers know) or <c>max_completion_tokens</c> (OpenAI and Azure OpenAI reasoning models reject <c>max_tokens</c>).
    /// </summary>
    public string ChatMaxTokensField { get; set; } = "max_tokens";

    /// <summary>
    /// <c>chat</c> only: the assistant-message field that carries reasoning when it is sent back (see
    /// <see cref="ChatSendReasoningContent"/>), <c>reasoning_content</c> (default; DeepSeek, vLLM, SGLang) or
    /// <c>reasoning</c> (OpenRouter, newer vLLM). Both fields, and inline <c>&lt;think&gt;</c> tags, are always read from answers.
    /// </summary>
    public string ChatReasoningField { get; set; } = "reasoning_content";

    /// <summary>
    /// <c>chat</c> only: how <c>reasoning.effort</c> is sent, <c>reasoning_effort</c> (default; the OpenAI field) or
    /// <c>none</c> (not sent, for servers that reject the field).
    /// </summary>
    public string ChatReasoningEffort { get; set; } = "reasoning_effort";

    /// <summary>
    /// <c>chat</c> only: whether the upstream supports <c>response_format: {type:"json_schema"}</c> (default true). When
    /// false a <c>json_schema</c> format is sent as <c>json_object</c> (valid JSON, schema not enforced upstream).
    /// </summary>
    public bool ChatJsonSchema { get; set; } = true;

    /// <summary>
    /// <c>chat</c> only: whether the client's <c>parallel_tool_calls</c> is forwarded (default true). Turn off for
    /// servers that reject the field.
    /// </summary>
    public bool ChatParallelToolCalls { get; set; } = true;

    /// <summary>
    /// <c>chat</c> only: send the reasoning of earlier assistant turns back on those assistant messages, in the
    /// <see cref="ChatReasoningField"/> field (default false). Required by DeepSeek thinking mode, which rejects an
    /// assistant tool-call turn whose <c>reasoning_content</c> is missing.
    /// </summary>
    public bool ChatSendReasoningContent { get; set; }

    /// <summary>
    /// <c>chat</c> only: split a <c>&lt;think&gt;…&lt;/think&gt;</c> block at the start of the answer text into a
    /// reasoning item (default true; DeepSeek-R1 style models served without a reasoning parser).
    /// </summary>
    public bool ChatThinkTags { get; set; } = true;

    /// <summary>
    /// <c>chat</c> only: what happens to hosted tools the upstream cannot run (<c>web_search</c>, <c>file_search</c>,
    /// <c>code_interpreter</c>, <c>image_generation</c>, <c>computer_use_preview</c>): <c>drop</c> (default; removed,
    /// logged, and named in the <c>x-gateway-dropped-tools</c> response header) or <c>reject</c> (400 <c>unsupported_tool</c>).
    /// </summary>
    public string ChatHostedTools { get; set; } = "drop";
}

public static class UpstreamKinds
{
    public const string Responses = "responses";
    public const string Chat = "chat";
}

public static class UpstreamAuthModes
{
    public const string Key = "key";
    public const string ManagedIdentity = "managed-identity";
}
