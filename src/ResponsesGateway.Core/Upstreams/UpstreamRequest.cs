using System.Text.Json.Nodes;
using ResponsesGateway.Core.Requests;

namespace ResponsesGateway.Core.Upstreams;

/// <summary>What the pipeline hands an upstream: the body to send and the context it was built from.</summary>
public sealed class UpstreamRequest
{
    public UpstreamRequest(JsonObject body, CreateResponseRequest original, string responseId, long createdAt)
    {
        Body = body;
        Original = original;
        ResponseId = responseId;
        CreatedAt = createdAt;
    }

    /// <summary>
    /// A Responses-API body ready for the wire: the chain already expanded into <c>input</c>, <c>store</c> false,
    /// no <c>previous_response_id</c>, the model renamed for the upstream. Unknown client fields are still in it.
    /// </summary>
    public JsonObject Body { get; }

    /// <summary>The client's request as validated (for the echo fields of a Response built by a translating upstream).</summary>
    public CreateResponseRequest Original { get; }

    /// <summary>The id the gateway minted; translating upstreams put it in the Response objects they build.</summary>
    public string ResponseId { get; }

    public long CreatedAt { get; }
}
