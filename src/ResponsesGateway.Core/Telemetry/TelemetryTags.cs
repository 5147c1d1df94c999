namespace ResponsesGateway.Core.Telemetry;

/// <summary>
/// Attribute names: the OpenTelemetry GenAI semantic conventions (<c>gen_ai.*</c>) where one applies, the general
/// ones (<c>error.type</c>, <c>db.operation.name</c>), and the gateway's own under <c>responses_gateway.*</c>.
/// No attribute carries a key, a prompt or any output text.
/// </summary>
public static class TelemetryTags
{
    public const string OperationName = "gen_ai.operation.name";
    public const string ProviderName = "gen_ai.provider.name";
    public const string RequestModel = "gen_ai.request.model";
    public const string ResponseModel = "gen_ai.response.model";
    public const string ResponseId = "gen_ai.response.id";
    public const string InputTokens = "gen_ai.usage.input_tokens";
    public const string OutputTokens = "gen_ai.usage.output_tokens";
    public const string FinishReasons = "gen_ai.response.finish_reasons";
    public const string TokenType = "gen_ai.token.type";
    public const string ErrorType = "error.type";
    public const string DbOperation = "db.operation.name";

    /// <summary>The tenant: the configured name of the client key, never the key.</summary>
    public const string Tenant = "responses_gateway.tenant";
    public const string Upstream = "responses_gateway.upstream";
    public const string UpstreamKind = "responses_gateway.upstream.kind";
    /// <summary>0 for the first try at an upstream, n for its n-th retry.</summary>
    public const string Retry = "responses_gateway.upstream.retry";
    /// <summary>True on attempts at a route's fallback upstream.</summary>
    public const string Fallback = "responses_gateway.upstream.fallback";
    public const string FallbackTo = "responses_gateway.upstream.fallback_to";
    public const string ChainDepth = "responses_gateway.chain.depth";
    public const string Stream = "responses_gateway.stream";
    public const string Store = "responses_gateway.store";
    public const string Status = "responses_gateway.response.status";
    public const string RejectReason = "responses_gateway.reject.reason";

    /// <summary>The value of <see cref="OperationName"/>: a Responses turn is a chat in the conventions' terms.</summary>
    public const string ChatOperation = "chat";
}
