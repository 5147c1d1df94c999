using System.Net;
using System.Net.Http.Headers;
using System.Text;
using ResponsesGateway.MockUpstream;

namespace ResponsesGateway.Benchmarks;

/// <summary>
/// Replies recorded once from the real mock upstream (in-process, loopback), then replayed from memory, so a benchmark
/// measures the gateway's code and not a socket.
/// </summary>
internal static class Recorded
{
    /// <summary>27 words: the mock answers "Mock reply to: " + this (cut to 200 chars) in word-sized deltas.</summary>
    public const string Input = "The quick brown fox jumps over the lazy dog while the small cat watches from the warm window and the old dog sleeps on under the tree";

    /// <summary>Sends each request once to a fresh mock and returns the raw response bodies.</summary>
    public static async Task<Dictionary<string, byte[]>> FromMockAsync(IEnumerable<(string Key, string Path, string Body)> requests)
    {
        await using var mock = await MockUpstreamServer.StartAsync(new MockUpstreamOptions());
        using var client = new HttpClient();
        var replies = new Dictionary<string, byte[]>();
        foreach (var (key, path, body) in requests)
        {
            using var response = await client.PostAsync(mock.BaseUrl + path, new StringContent(body, Encoding.UTF8, "application/json"));
            response.EnsureSuccessStatusCode();
            replies[key] = await response.Content.ReadAsByteArrayAsync();
        }
        return replies;
    }

    /// <summary>The <c>data:</c> payloads of an SSE body, in order (without <c>[DONE]</c>).</summary>
    public static List<byte[]> DataLines(byte[] sse) =>
        Encoding.UTF8.GetString(sse).Split('\n')
            .Where(l => l.StartsWith("data: ", StringComparison.Ordinal) && l != "data: [DONE]")
            .Select(l => Encoding.UTF8.GetBytes(l["data: ".Length..]))
            .ToList();
}

/// <summary>
/// An <see cref="HttpMessageHandler"/> that answers every request with recorded bytes chosen by the request:
/// an SSE body when the request asks for <c>"stream":true</c>, the JSON body otherwise.
/// </summary>
internal sealed class ReplayHandler(byte[] json, byte[] sse) : HttpMessageHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
        var stream = body.Contains("\"stream\":true", StringComparison.Ordinal);
        var content = new ByteArrayContent(stream ? sse : json);
        content.Headers.ContentType = new MediaTypeHeaderValue(stream ? "text/event-stream" : "application/json");
        return new HttpResponseMessage(HttpStatusCode.OK) { Content = content, RequestMessage = request };
    }
}
