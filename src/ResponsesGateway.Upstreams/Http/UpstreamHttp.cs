using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using ResponsesGateway.Core.Options;
using ResponsesGateway.Core.Upstreams;
using ResponsesGateway.Upstreams.Sse;

namespace ResponsesGateway.Upstreams.Http;

/// <summary>
/// The HTTP plumbing both upstream kinds share: one request with the first-byte timeout, failures turned into
/// <see cref="UpstreamException"/>, bounded reads of error bodies, and SSE bodies bounded per event.
/// </summary>
internal sealed class UpstreamHttp(HttpClient client, UpstreamCredentials credentials, GatewayOptions gateway)
{
    private const int MaxErrorBodyChars = 64 * 1024;

    public TimeSpan IdleTimeout => TimeSpan.FromSeconds(gateway.UpstreamIdleTimeoutSeconds);

    /// <summary>Sends <paramref name="body"/> and returns a successful response with its headers read; the caller disposes it.</summary>
    public async Task<HttpResponseMessage> SendAsync(Uri url, byte[] body, bool stream, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new ByteArrayContent(body) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
        };
        request.Headers.Accept.ParseAdd(stream ? "text/event-stream" : "application/json");
        using var firstByte = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        firstByte.CancelAfter(TimeSpan.FromSeconds(gateway.UpstreamFirstByteTimeoutSeconds));
        HttpResponseMessage response;
        try
        {
            await credentials.ApplyAsync(request, firstByte.Token);
            response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, firstByte.Token);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested && e.InnerException is TimeoutException && !firstByte.IsCancellationRequested)
        {
            // SocketsHttpHandler's ConnectTimeout: nothing was sent yet.
            throw new UpstreamException(UpstreamFailure.Timeout, "The connection could not be opened in time.", e) { DuringConnect = true };
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new UpstreamException(UpstreamFailure.Timeout, "No response headers in time.", e);
        }
        catch (HttpRequestException e) when (e.InnerException is TimeoutException || e.HttpRequestError == HttpRequestError.ConnectionError && e.InnerException is OperationCanceledException)
        {
            throw new UpstreamException(UpstreamFailure.Timeout, "The connection could not be opened in time.", e) { DuringConnect = true };
        }
        catch (HttpRequestException e) when (e.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError
            || e.InnerException is SocketException)
        {
            throw new UpstreamException(UpstreamFailure.Connect, "Connection failed.", e);
        }
        catch (HttpRequestException e)
        {
            throw new UpstreamException(UpstreamFailure.StreamInterrupted, "The request failed.", e);
        }
        catch (Azure.Identity.AuthenticationFailedException e)
        {
            throw new UpstreamException(UpstreamFailure.BadStatus, "No token for the upstream's managed identity.", e) { StatusCode = 401 };
        }

        if (response.IsSuccessStatusCode)
        {
            if (stream)
            {
                response.Content = new BoundedEventContent(response.Content, gateway.UpstreamMaxEventBytes);
            }
            return response;
        }
        using (response)
        {
            var text = await ReadBoundedAsync(response.Content, cancellationToken);
            throw new UpstreamException(UpstreamFailure.BadStatus, $"HTTP {(int)response.StatusCode}.")
            {
                StatusCode = (int)response.StatusCode,
                Body = text,
                Code = Core.Upstreams.UpstreamErrorBody.TryParse(text)?.Code,
                RetryAfterSeconds = RetryAfter(response),
            };
        }
    }

    /// <summary>Reads a whole JSON body (non-streaming answers), turning a broken body into an upstream failure.</summary>
    public static async Task<byte[]> ReadBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadAsByteArrayAsync(cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            throw new UpstreamException(UpstreamFailure.StreamInterrupted, "The response body broke off.", e);
        }
    }

    private static async Task<string> ReadBoundedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await content.ReadAsStreamAsync(cancellationToken);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var buffer = new char[MaxErrorBodyChars];
            var read = await reader.ReadBlockAsync(buffer.AsMemory(), cancellationToken);
            return new string(buffer, 0, read);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return "";
        }
    }

    private static int? RetryAfter(HttpResponseMessage response)
    {
        var retry = response.Headers.RetryAfter;
        if (retry?.Delta is { } delta)
        {
            return (int)Math.Ceiling(delta.TotalSeconds);
        }
        if (retry?.Date is { } date)
        {
            return Math.Max(0, (int)Math.Ceiling((date - DateTimeOffset.UtcNow).TotalSeconds));
        }
        return response.StatusCode == HttpStatusCode.TooManyRequests ? 1 : null;
    }
}
