namespace ResponsesGateway.MockUpstream;

/// <summary>Settings of a <see cref="MockUpstreamServer"/>. Read per request, so they may be changed while the server runs.</summary>
public sealed class MockUpstreamOptions
{
    /// <summary>TCP port on 127.0.0.1; 0 picks a free port.</summary>
    public int Port { get; set; }

    /// <summary>When set, requests without <c>Authorization: Bearer &lt;key&gt;</c> get 401 with OpenAI's <c>invalid_api_key</c> envelope.</summary>
    public string? RequiredApiKey { get; set; }

    /// <summary>Delay before the response headers of every <c>/v1</c> request.</summary>
    public TimeSpan FirstByteDelay { get; set; }

    /// <summary>Delay between two streamed deltas.</summary>
    public TimeSpan TokenDelay { get; set; }

    /// <summary>Bound of <see cref="MockUpstreamServer.Requests"/>; the oldest requests are dropped first.</summary>
    public int MaxRecordedRequests { get; set; } = 1000;
}

/// <summary>One request as received by the mock.</summary>
/// <param name="Method">HTTP method.</param>
/// <param name="Path">Request path, plus the query string when there is one (e.g. <c>/v1/responses</c>).</param>
/// <param name="Headers">Request headers (case-insensitive keys; repeated headers joined with a comma).</param>
/// <param name="Body">The raw request body text (UTF-8 decoded), empty when there is none.</param>
public sealed record RecordedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, string Body);
