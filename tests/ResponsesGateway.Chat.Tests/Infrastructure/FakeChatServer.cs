using System.Net;
using System.Text;

namespace ResponsesGateway.Upstreams.Chat.Tests.Infrastructure;

/// <summary>
/// Stands in for <c>{BaseUrl}/chat/completions</c>: answers each request with the next prepared answer (an SSE
/// transcript or a JSON body; the last one repeats) and records what the gateway sent.
/// </summary>
internal sealed class FakeChatServer : HttpMessageHandler
{
    private readonly Queue<(byte[] Body, string ContentType, HttpStatusCode Status)> _answers = new();

    public List<(Uri Url, string Body)> Requests { get; } = [];

    public static FakeChatServer Sse(string transcript) => new FakeChatServer().ThenSse(transcript);

    public static FakeChatServer Json(string body, HttpStatusCode status = HttpStatusCode.OK) => new FakeChatServer().ThenJson(body, status);

    public FakeChatServer ThenSse(string transcript)
    {
        _answers.Enqueue((Encoding.UTF8.GetBytes(transcript), "text/event-stream", HttpStatusCode.OK));
        return this;
    }

    public FakeChatServer ThenJson(string body, HttpStatusCode status = HttpStatusCode.OK)
    {
        _answers.Enqueue((Encoding.UTF8.GetBytes(body), "application/json", status));
        return this;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Requests.Add((request.RequestUri!, await request.Content!.ReadAsStringAsync(cancellationToken)));
        var (body, contentType, status) = _answers.Count > 1 ? _answers.Dequeue() : _answers.Peek();
        return new HttpResponseMessage(status)
        {
            Content = new ByteArrayContent(body) { Headers = { ContentType = new(contentType) { CharSet = "utf-8" } } },
        };
    }
}
