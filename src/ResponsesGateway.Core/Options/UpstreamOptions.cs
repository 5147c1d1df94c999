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
