using System.Buffers;
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

    /// <summary>
    /// Reads a whole JSON body (non-streaming answers), turning a broken body into an upstream failure. Bounded like a
    /// stream event (<see cref="GatewayOptions.UpstreamMaxEventBytes"/>): the JSON answer is what <c>response.completed</c>
    /// carries in a stream, and an upstream must not make the gateway buffer without limit.
    /// </summary>
    public async Task<byte[]> ReadBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var limit = gateway.UpstreamMaxEventBytes;
        if (response.Content.Headers.ContentLength > limit)
        {
            throw TooLarge(limit);
        }
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var body = new MemoryStream();
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (body.Length + read > limit)
                {
                    throw TooLarge(limit);
                }
                body.Write(chunk, 0, read);
            }
            return body.ToArray();
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            throw new UpstreamException(UpstreamFailure.StreamInterrupted, "The response body broke off.", e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    private static UpstreamException TooLarge(int limit) =>
        new(UpstreamFailure.StreamInterrupted, $"the upstream's answer is larger than {limit} bytes.") { Code = "upstream_response_too_large" };

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
