using Microsoft.AspNetCore.Http;
using ResponsesGateway.Http.Errors;

namespace ResponsesGateway.Http.Endpoints;

/// <summary>
/// The answer to a request no route took, the same on both hosts: 405 with <c>Allow</c> when the path is one of the
/// gateway's routes and only the method is wrong, else 404; both in the OpenAI envelope, never an empty body.
/// </summary>
public static class UnmatchedRequests
{
    // Path shapes of the routes both hosts map; "*" is one segment (an id). A new route belongs here too, so that a
    // wrong method on it is a 405 rather than a 404.
    private static readonly (string[] Segments, string[] Methods)[] Routes =
    [
        (["v1", "responses"], ["POST", "GET"]), // GET: the WebSocket upgrade
        (["v1", "responses", "input_tokens"], ["POST"]),
        (["v1", "responses", "compact"], ["POST"]),
        (["v1", "responses", "*"], ["GET", "DELETE"]),
        (["v1", "responses", "*", "input_items"], ["GET"]),
        (["v1", "responses", "*", "cancel"], ["POST"]),
        (["v1", "models"], ["GET"]),
        (["v1", "conversations"], ["POST"]),
        (["v1", "conversations", "*"], ["GET", "POST", "DELETE"]),
        (["v1", "conversations", "*", "items"], ["GET", "POST"]),
        (["v1", "conversations", "*", "items", "*"], ["GET", "DELETE"]),
    ];

    public static Task WriteAsync(HttpContext context)
    {
        var request = context.Request;
        var allowed = AllowedMethods(request.Path);
        if (allowed is null)
        {
            return GatewayErrorWriter.WriteAsync(context, StatusCodes.Status404NotFound,
                $"Invalid URL ({request.Method} {Shorten(request.Path)}).", code: "unknown_url");
        }

        context.Response.Headers.Allow = allowed;
        return GatewayErrorWriter.WriteAsync(context, StatusCodes.Status405MethodNotAllowed,
            $"Method {request.Method} is not allowed for {Shorten(request.Path)}; allowed: {allowed}.", code: "method_not_allowed");
    }

    /// <summary>
    /// The methods the routes at <paramref name="path"/> accept (a path can match several: <c>/v1/responses/compact</c>
    /// is also an id), or null when no route has that path.
    /// </summary>
    public static string? AllowedMethods(PathString path)
    {
        var segments = (path.Value ?? "").Trim('/').Split('/');
        var allowed = Routes.Where(r => Matches(r.Segments, segments)).SelectMany(r => r.Methods).Distinct().ToArray();
        return allowed.Length == 0 ? null : string.Join(", ", allowed);
    }

    private static bool Matches(string[] pattern, string[] segments)
    {
        if (pattern.Length != segments.Length)
        {
            return false;
        }
        for (var i = 0; i < pattern.Length; i++)
        {
            var literal = pattern[i] != "*";
            if (literal ? !string.Equals(pattern[i], segments[i], StringComparison.OrdinalIgnoreCase) : segments[i].Length == 0)
            {
                return false;
            }
        }
        return true;
    }

    // A path is echoed in the message, but a hostile one is not echoed whole.
    private static string Shorten(PathString path)
    {
        var value = path.Value ?? "/";
        return value.Length <= 200 ? value : string.Concat(value.AsSpan(0, 200), "…");
    }
}
