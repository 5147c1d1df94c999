using System.Text.Json;
using System.Xml;
using System.Xml.Linq;
using Azure;
using Azure.Core;

namespace ResponsesGateway.Storage.Tables;

/// <summary>Turns HTTP responses and transport failures into <see cref="TableResult"/> values.</summary>
internal static class TableResponses
{
    public static TableResultStatus StatusFor(int httpStatus) => httpStatus switch
    {
        >= 200 and < 300 => TableResultStatus.Ok,
        404 => TableResultStatus.NotFound,
        409 => TableResultStatus.Conflict,
        412 => TableResultStatus.PreconditionFailed,
        429 or 503 => TableResultStatus.Throttled,
        401 or 403 => TableResultStatus.Unauthorized,
        400 or 413 => TableResultStatus.BadRequest,
        408 => TableResultStatus.Unreachable,
        _ => TableResultStatus.Failed,
    };

    public static ETag? ETagOf(Response response) =>
        response.Headers.TryGetValue("ETag", out var etag) ? new ETag(etag) : null;

    public static TableResult Success(Response response) =>
        new(TableResultStatus.Ok, response.Status, null, null, ETagOf(response));

    public static TableResult<T> Success<T>(Response response, T value) =>
        new(TableResultStatus.Ok, response.Status, null, null, ETagOf(response), value);

    public static TableResult<T> Failure<T>(TableResult failure) =>
        new(failure.Status, failure.HttpStatus, failure.ErrorCode, failure.ErrorMessage, null, default);

    /// <summary>Reads the storage error (<c>{"odata.error":{"code","message":{"value"}}}</c>) from a non-success response.</summary>
    public static TableResult Error(Response response, string operation, string? authHint)
    {
        var (code, message) = ParseError(response);
        code ??= response.Headers.TryGetValue("x-ms-error-code", out var headerCode) ? headerCode : null;
        var status = StatusFor(response.Status);
        var text = $"{operation} failed with {response.Status}{(code is null ? "" : " " + code)}: {message ?? response.ReasonPhrase}";
        if (status == TableResultStatus.Unauthorized && authHint is not null)
        {
            text += " " + authHint;
        }

        return new TableResult(status, response.Status, code, text, null);
    }

    public static TableResult Unreachable(Uri endpoint, string operation, Exception exception)
    {
        // Messages of HttpRequestException/SocketException name host and port, not headers, so they hold no secrets.
        var reason = exception.InnerException?.Message ?? exception.Message;
        return new TableResult(TableResultStatus.Unreachable, 0, null, $"{operation}: table endpoint {endpoint} is unreachable: {reason}", null);
    }

    public static TableResult CredentialFailed(string operation, Exception exception) =>
        new(TableResultStatus.Unauthorized, 0, null, $"{operation}: could not obtain a storage token: {exception.Message}", null);

    private static (string? Code, string? Message) ParseError(Response response)
    {
        var content = response.Content;
        if (content is null || content.ToMemory().IsEmpty)
        {
            return (null, null);
        }

        var bytes = content.ToMemory();
        if (bytes.Span.TrimStart(" \t\r\n"u8).StartsWith("<"u8))
        {
            return ParseXmlError(bytes);
        }

        try
        {
            using var doc = JsonDocument.Parse(bytes);
            if (doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("odata.error", out var error))
            {
                var code = error.TryGetProperty("code", out var c) ? c.GetString() : null;
                string? message = null;
                if (error.TryGetProperty("message", out var m))
                {
                    message = m.ValueKind == JsonValueKind.Object && m.TryGetProperty("value", out var v) ? v.GetString()
                        : m.ValueKind == JsonValueKind.String ? m.GetString()
                        : null;
                }

                return (code, FirstLine(message));
            }
        }
        catch (JsonException)
        {
            // Non-JSON error bodies (proxies, XML from some front ends) fall back to the reason phrase.
        }

        return (null, null);
    }

    // Authentication failures come back as XML (<Error><Code/><Message/></Error>) even when JSON was asked for.
    private static (string? Code, string? Message) ParseXmlError(ReadOnlyMemory<byte> bytes)
    {
        try
        {
            using var stream = new MemoryStream(bytes.ToArray(), writable: false);
            var root = XDocument.Load(stream).Root;
            return (root?.Element("Code")?.Value, FirstLine(root?.Element("Message")?.Value));
        }
        catch (XmlException)
        {
            return (null, null);
        }
    }

    // Service messages append "RequestId:…\nTime:…" lines; keep the sentence only.
    private static string? FirstLine(string? message)
    {
        if (message is null)
        {
            return null;
        }

        var newline = message.IndexOf('\n');
        return newline < 0 ? message : message[..newline];
    }
}
