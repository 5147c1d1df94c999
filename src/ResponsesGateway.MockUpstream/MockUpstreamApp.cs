using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ResponsesGateway.MockUpstream;

/// <summary>Builds the web application (shared by <see cref="MockUpstreamServer.StartAsync"/> and the standalone Program).</summary>
internal static class MockUpstreamApp
{
    public static WebApplication Build(IReadOnlyList<IPEndPoint> endpoints, bool standalone, Func<MockUpstreamServer> server)
    {
        // The empty builder reads no configuration files and adds no logging: cheap to start, nothing on the hot path.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(MockUpstreamApp).Assembly.GetName().Name,
        });
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Limits.MinRequestBodyDataRate = null;
            foreach (var endpoint in endpoints)
            {
                kestrel.Listen(endpoint);
            }
        });

        if (!standalone)
        {
            // In-process (tests): no Ctrl+C / SIGTERM hooks; the owner disposes the server.
            builder.Services.AddSingleton<IHostLifetime, NoopHostLifetime>();
        }

        var app = builder.Build();
        var handler = new MockRequestHandler(server, app.Lifetime.ApplicationStopping);
        ((IApplicationBuilder)app).Run(handler.HandleAsync);
        return app;
    }

    private sealed class NoopHostLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

/// <summary>The single request delegate: record, authenticate, route, misbehave, count client aborts.</summary>
internal sealed class MockRequestHandler(Func<MockUpstreamServer> serverAccessor, CancellationToken stopping)
{
    private static readonly byte[] ModelsBody = Encoding.UTF8.GetBytes(
        """{"object":"list","data":[""" +
        """{"id":"mock-model","object":"model","created":1700000000,"owned_by":"mock-upstream"},""" +
        """{"id":"mock-tools","object":"model","created":1700000000,"owned_by":"mock-upstream"},""" +
        """{"id":"mock-reasoning","object":"model","created":1700000000,"owned_by":"mock-upstream"},""" +
        """{"id":"mock-echo","object":"model","created":1700000000,"owned_by":"mock-upstream"}""" +
        """]}""");

    private static readonly TimeSpan AbortGrace = TimeSpan.FromMilliseconds(150);

    public async Task HandleAsync(HttpContext ctx)
    {
        var server = serverAccessor();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, stopping);
        var ct = cts.Token;
        try
        {
            var body = await ReadBodyAsync(ctx.Request, ct).ConfigureAwait(false);
            var bodyText = body.Length == 0 ? string.Empty : Encoding.UTF8.GetString(body);
            server.Record(new RecordedRequest(ctx.Request.Method, ctx.Request.Path.Value + ctx.Request.QueryString.Value, CopyHeaders(ctx.Request.Headers), bodyText));
            await DispatchAsync(ctx, server.Options, body, bodyText, ct).ConfigureAwait(false);
        }
        catch (MockDisconnectException)
        {
            // Deliberate abort (disconnect-<n>), not a client abort. Abort() resets the connection at once and would
            // drop output still queued in the transport, so give the events already written a moment to leave first.
            try
            {
                await ctx.Response.BodyWriter.FlushAsync(ct).ConfigureAwait(false);
                await Task.Delay(AbortGrace, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException)
            {
                // the client went away first: nothing left to deliver
            }

            ctx.Abort();
        }
        catch (MockStreamEndedException)
        {
            // deliberate early end (truncated-json stream): the response completes normally
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            var serverStopping = stopping.IsCancellationRequested && !ctx.RequestAborted.IsCancellationRequested;
            if (!serverStopping)
            {
                server.OnClientAborted();
            }

            ctx.Abort();
        }
        catch (Exception ex) when (!ctx.Response.HasStarted)
        {
            ctx.Response.Clear();
            await MockErrors.WriteAsync(ctx, StatusCodes.Status500InternalServerError, "Mock upstream internal error: " + ex.Message, "server_error", null, "mock_internal_error", CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static async Task DispatchAsync(HttpContext ctx, MockUpstreamOptions options, byte[] body, string bodyText, CancellationToken ct)
    {
        var path = ctx.Request.Path.Value ?? string.Empty;
        if (path.Length > 1 && path[^1] == '/')
        {
            path = path[..^1];
        }

        if (!path.StartsWith("/v1/", StringComparison.Ordinal))
        {
            await NotFoundAsync(ctx, ct).ConfigureAwait(false);
            return;
        }

        if (options.FirstByteDelay > TimeSpan.Zero)
        {
            await Task.Delay(options.FirstByteDelay, ct).ConfigureAwait(false);
        }

        if (options.RequiredApiKey is { Length: > 0 } requiredKey && !IsAuthorized(ctx.Request, requiredKey, out var provided))
        {
            var message = provided is null
                ? "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). You can obtain an API key from https://platform.openai.com/account/api-keys."
                : $"Incorrect API key provided: {Mask(provided)}. You can find your API key at https://platform.openai.com/account/api-keys.";
            await MockErrors.WriteAsync(ctx, StatusCodes.Status401Unauthorized, message, "invalid_request_error", null, "invalid_api_key", ct).ConfigureAwait(false);
            return;
        }

        var method = ctx.Request.Method;
        if (HttpMethods.IsPost(method) && path == "/v1/responses")
        {
            await GenerateAsync(ctx, options, UpstreamProtocol.Responses, body, bodyText, ct).ConfigureAwait(false);
        }
        else if (HttpMethods.IsPost(method) && path is "/v1/responses/input_tokens" or "/v1/responses/compact")
        {
            await AuxiliaryAsync(ctx, path.EndsWith("/compact", StringComparison.Ordinal), body, bodyText, ct).ConfigureAwait(false);
        }
        else if (HttpMethods.IsPost(method) && path == "/v1/chat/completions")
        {
            await GenerateAsync(ctx, options, UpstreamProtocol.Chat, body, bodyText, ct).ConfigureAwait(false);
        }
        else if (HttpMethods.IsGet(method) && path == "/v1/models")
        {
            ctx.Response.StatusCode = StatusCodes.Status200OK;
            ctx.Response.ContentType = "application/json";
            ctx.Response.ContentLength = ModelsBody.Length;
            await ctx.Response.BodyWriter.WriteAsync(ModelsBody, ct).ConfigureAwait(false);
        }
        else
        {
            await NotFoundAsync(ctx, ct).ConfigureAwait(false);
        }
    }

    private static async Task GenerateAsync(HttpContext ctx, MockUpstreamOptions options, UpstreamProtocol protocol, byte[] body, string bodyText, CancellationToken ct)
    {
        using var request = RequestInfo.TryParse(body, bodyText, protocol, out var parseError);
        if (request is null)
        {
            await MockErrors.WriteAsync(ctx, StatusCodes.Status400BadRequest, parseError!, "invalid_request_error", null, null, ct).ConfigureAwait(false);
            return;
        }

        var behavior = Behavior.Resolve(ctx.Request.Headers[Behavior.HeaderName].ToString(), request.Model);
        switch (behavior.Kind)
        {
            case BehaviorKind.Slow when behavior.Arg > 0:
                await Task.Delay(behavior.Arg, ct).ConfigureAwait(false);
                break;
            case BehaviorKind.Error:
                await MockErrors.WriteForStatusAsync(ctx, behavior.Arg, request.Model, ct).ConfigureAwait(false);
                return;
        }

        var plan = ReplyPlan.Build(request, behavior);
        using var exchange = new MockExchange(ctx, request, behavior, plan, options, ct);
        if (protocol == UpstreamProtocol.Responses)
        {
            await ResponsesProtocol.WriteAsync(exchange).ConfigureAwait(false);
        }
        else
        {
            await ChatProtocol.WriteAsync(exchange).ConfigureAwait(false);
        }

        // Make sure everything reached the socket while we can still notice a client that went away.
        var flush = await ctx.Response.BodyWriter.FlushAsync(ct).ConfigureAwait(false);
        if (flush.IsCanceled)
        {
            throw new ClientGoneException();
        }
    }

    /// <summary>
    /// <c>input_tokens</c> (the mock's count: request characters / 4) and <c>compact</c> (every user message of the input
    /// followed by one compaction item whose content names how many items were compacted), as OpenAI answers them.
    /// </summary>
    private static async Task AuxiliaryAsync(HttpContext ctx, bool compact, byte[] body, string bodyText, CancellationToken ct)
    {
        using var request = RequestInfo.TryParse(body, bodyText, UpstreamProtocol.Responses, out var parseError);
        if (request is null)
        {
            await MockErrors.WriteAsync(ctx, StatusCodes.Status400BadRequest, parseError!, "invalid_request_error", null, null, ct).ConfigureAwait(false);
            return;
        }
        var behavior = Behavior.Resolve(ctx.Request.Headers[Behavior.HeaderName].ToString(), request.Model);
        if (behavior.Kind == BehaviorKind.Error)
        {
            await MockErrors.WriteForStatusAsync(ctx, behavior.Arg, request.Model, ct).ConfigureAwait(false);
            return;
        }
        JsonObject answer;
        if (!compact)
        {
            answer = new() { ["object"] = "response.input_tokens", ["input_tokens"] = request.InputTokens };
        }
        else
        {
            var items = JsonNode.Parse(bodyText)?["input"] as JsonArray ?? [];
            var output = new JsonArray();
            foreach (var item in items.OfType<JsonObject>().Where(i => (string?)i["role"] == "user"))
            {
                output.Add(new JsonObject
                {
                    ["id"] = "msg_mockcmp" + output.Count, ["type"] = "message", ["status"] = "completed", ["role"] = "user",
                    ["content"] = item["content"] is JsonValue text
                        ? new JsonArray(new JsonObject { ["type"] = "input_text", ["text"] = (string?)text })
                        : item["content"]?.DeepClone(),
                });
            }
            output.Add(new JsonObject { ["id"] = "cmp_mock", ["type"] = "compaction", ["encrypted_content"] = $"mock-compaction:{items.Count}" });
            answer = new()
            {
                ["id"] = "resp_mockcompact", ["object"] = "response.compaction", ["created_at"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), ["output"] = output,
                ["usage"] = new JsonObject
                {
                    ["input_tokens"] = request.InputTokens, ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = 0 },
                    ["output_tokens"] = 10, ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = 0 },
                    ["total_tokens"] = request.InputTokens + 10,
                },
            };
        }
        var bytes = Encoding.UTF8.GetBytes(answer.ToJsonString());
        ctx.Response.StatusCode = StatusCodes.Status200OK;
        ctx.Response.ContentType = "application/json";
        ctx.Response.ContentLength = bytes.Length;
        await ctx.Response.Body.WriteAsync(bytes, ct).ConfigureAwait(false);
    }

    private static Task NotFoundAsync(HttpContext ctx, CancellationToken ct) =>
        MockErrors.WriteAsync(ctx, StatusCodes.Status404NotFound, $"Invalid URL ({ctx.Request.Method} {ctx.Request.Path})", "invalid_request_error", null, "unknown_url", ct);

    private static bool IsAuthorized(HttpRequest request, string requiredKey, out string? provided)
    {
        provided = null;
        var header = request.Headers.Authorization.ToString();
        if (header.Length == 0)
        {
            return false;
        }

        provided = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : header;
        return string.Equals(provided, requiredKey, StringComparison.Ordinal);
    }

    private static string Mask(string key) => key.Length <= 8 ? "***" : key[..4] + "***" + key[^4..];

    private static Dictionary<string, string> CopyHeaders(IHeaderDictionary headers)
    {
        var copy = new Dictionary<string, string>(headers.Count, StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in headers)
        {
            copy[name] = values.ToString();
        }

        return copy;
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength is 0)
        {
            return [];
        }

        var capacity = request.ContentLength is > 0 and < int.MaxValue ? (int)request.ContentLength.Value : 4096;
        using var ms = new MemoryStream(capacity);
        await request.Body.CopyToAsync(ms, ct).ConfigureAwait(false);
        return ms.ToArray();
    }
}
