using System.Net;
using System.Text;

namespace ResponsesGateway.Upstreams.Chat.Tests.Infrastructure;

/// <summary>
/// Stands in for <c>{BaseUrl}/chat/completions</c>: answers every request with the given bytes (an SSE transcript or a
/// JSON completion) and records what the gateway sent.
/// </summary>
internal sealed class FakeChatServer(byte[] answer, string contentType, HttpStatusCode status = HttpStatusCode.OK) : HttpMessageHandler
{
    public List<(Uri Url, string Body)> Requests { get; } = [];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Requests.Add((request.RequestUri!, await request.Content!.ReadAsStringAsync(cancellationToken)));
        return new HttpResponseMessage(status)
        {
            Content = new ByteArrayContent(answer) { Headers = { ContentType = new(contentType) { CharSet = "utf-8" } } },
        };
    }

    public static FakeChatServer Sse(string transcript) => new(Encoding.UTF8.GetBytes(transcript), "text/event-stream");

    public static FakeChatServer Json(string body, HttpStatusCode status = HttpStatusCode.OK) => new(Encoding.UTF8.GetBytes(body), "application/json", status);
}
