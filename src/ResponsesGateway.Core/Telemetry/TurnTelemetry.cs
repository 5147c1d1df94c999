using System.Diagnostics;
using System.Text.Json.Nodes;
using ResponsesGateway.Core.Auth;
using ResponsesGateway.Core.Errors;
using ResponsesGateway.Core.Requests;
using ResponsesGateway.Core.Routing;
using ResponsesGateway.Core.Upstreams;
using ResponsesGateway.Protocol.Streaming;

namespace ResponsesGateway.Core.Telemetry;

/// <summary>
/// The telemetry of one create call: the turn's span (a child of the ASP.NET Core request span, parent of the chain
/// read, the upstream attempts and the store write), its GenAI attributes, and the per-turn metrics: operation
/// duration, token usage, time to first event, open streams. Records ids, names, counts and statuses, never content.
/// </summary>
public sealed class TurnTelemetry : IDisposable
{
    private readonly Activity? _activity;
    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly string _tenant;
    private readonly string _requestModel;
    private readonly bool _stream;
    private string? _upstream;
    private string? _responseModel;
    private string? _errorType;
    private bool _open;

    private TurnTelemetry(Tenant tenant, CreateResponseRequest request)
    {
        _tenant = tenant.Name;
        _requestModel = request.Model;
        _stream = request.Stream;
        if (!GatewayTelemetry.Source.HasListeners())
        {
            return;
        }
        _activity = GatewayTelemetry.Source.StartActivity($"{TelemetryTags.ChatOperation} {request.Model}", ActivityKind.Internal);
        if (_activity is { IsAllDataRequested: true })
        {
            _activity.SetTag(TelemetryTags.OperationName, TelemetryTags.ChatOperation);
            _activity.SetTag(TelemetryTags.RequestModel, request.Model);
            _activity.SetTag(TelemetryTags.Tenant, _tenant);
            _activity.SetTag(TelemetryTags.Stream, _stream);
            _activity.SetTag(TelemetryTags.Store, request.Store);
        }
    }

    public static TurnTelemetry Start(Tenant tenant, CreateResponseRequest request) => new(tenant, request);

    /// <summary>The model was routed and the chain resolved: the id is minted.</summary>
    public void Routed(ModelRoute route, string responseId, int chainDepth)
    {
        _upstream = route.Upstream.Name;
        if (_activity is { IsAllDataRequested: true })
        {
            _activity.SetTag(TelemetryTags.ProviderName, route.Upstream.Name);
            _activity.SetTag(TelemetryTags.Upstream, route.Upstream.Name);
            _activity.SetTag(TelemetryTags.UpstreamKind, route.Kind);
            _activity.SetTag(TelemetryTags.ResponseId, responseId);
            _activity.SetTag(TelemetryTags.ChainDepth, chainDepth);
        }
    }

    /// <summary>The turn went to the route's fallback: usage and duration count for the upstream that answered.</summary>
    public void FellBack(ModelRoute fallback)
    {
        _upstream = fallback.Upstream.Name;
        _activity?.SetTag(TelemetryTags.ProviderName, _upstream);
        _activity?.SetTag(TelemetryTags.Upstream, _upstream);
        _activity?.SetTag(TelemetryTags.UpstreamKind, fallback.Kind);
    }

    /// <summary>A stream's first upstream event arrived (after any retries and fallback): the stream is open.</summary>
    public void FirstEvent()
    {
        if (GatewayMetrics.TimeToFirstEvent.Enabled)
        {
            GatewayMetrics.TimeToFirstEvent.Record(Stopwatch.GetElapsedTime(_started).TotalSeconds, Tags());
        }
        _activity?.AddEvent(new ActivityEvent("first_event"));
        _open = true;
        if (GatewayMetrics.OpenStreams.Enabled)
        {
            GatewayMetrics.OpenStreams.Add(1, new KeyValuePair<string, object?>(TelemetryTags.Tenant, _tenant));
        }
    }

    /// <summary>The final Response object (completed, incomplete or failed), as the client gets it.</summary>
    public void Finished(JsonObject response)
    {
        var status = Text(response["status"]);
        _responseModel = Text(response["model"]);
        var usage = response["usage"] as JsonObject;
        var input = Count(usage?["input_tokens"]);
        var output = Count(usage?["output_tokens"]);
        if (status == ResponseStatuses.Failed)
        {
            _errorType ??= Text((response["error"] as JsonObject)?["code"]) ?? "failed";
        }
        if (_activity is { IsAllDataRequested: true })
        {
            _activity.SetTag(TelemetryTags.Status, status);
            _activity.SetTag(TelemetryTags.ResponseModel, _responseModel);
            _activity.SetTag(TelemetryTags.FinishReasons, new[] { FinishReason(response, status) });
            if (input is not null)
            {
                _activity.SetTag(TelemetryTags.InputTokens, input);
            }
            if (output is not null)
            {
                _activity.SetTag(TelemetryTags.OutputTokens, output);
            }
        }
        if (GatewayMetrics.TokenUsage.Enabled)
        {
            if (input is { } i)
            {
                var tags = Tags();
                tags.Add(TelemetryTags.TokenType, "input");
                GatewayMetrics.TokenUsage.Record(i, tags);
            }
            if (output is { } o)
            {
                var tags = Tags();
                tags.Add(TelemetryTags.TokenType, "output");
                GatewayMetrics.TokenUsage.Record(o, tags);
            }
        }
    }

    /// <summary>The turn ended without a complete answer: <paramref name="errorType"/> is the error code the client saw.</summary>
    public void Failed(string errorType) => _errorType ??= errorType;

    /// <summary>Exception filter: notes why the call failed and never catches.</summary>
    public bool Failed(Exception e)
    {
        _errorType ??= e switch
        {
            GatewayException g => g.Error.Code ?? g.Error.Type,
            UpstreamException u => UpstreamTelemetry.ErrorType(u),
            OperationCanceledException => "cancelled",
            _ => e.GetType().Name,
        };
        return false;
    }

    public void Dispose()
    {
        if (_open && GatewayMetrics.OpenStreams.Enabled)
        {
            GatewayMetrics.OpenStreams.Add(-1, new KeyValuePair<string, object?>(TelemetryTags.Tenant, _tenant));
        }
        if (GatewayMetrics.OperationDuration.Enabled)
        {
            var tags = Tags();
            if (_errorType is not null)
            {
                tags.Add(TelemetryTags.ErrorType, _errorType);
            }
            GatewayMetrics.OperationDuration.Record(Stopwatch.GetElapsedTime(_started).TotalSeconds, tags);
        }
        if (_activity is not null)
        {
            if (_errorType is not null)
            {
                _activity.SetTag(TelemetryTags.ErrorType, _errorType);
                _activity.SetStatus(ActivityStatusCode.Error, _errorType);
            }
            _activity.Dispose();
        }
    }

    private TagList Tags()
    {
        var tags = new TagList
        {
            { TelemetryTags.OperationName, TelemetryTags.ChatOperation },
            { TelemetryTags.Tenant, _tenant },
            { TelemetryTags.RequestModel, _requestModel },
            { TelemetryTags.Stream, _stream },
        };
        if (_upstream is not null)
        {
            tags.Add(TelemetryTags.ProviderName, _upstream);
        }
        if (_responseModel is not null)
        {
            tags.Add(TelemetryTags.ResponseModel, _responseModel);
        }
        return tags;
    }

    // The Response object comes from the upstream: read it without trusting its shapes (a wrong type is no value).
    private static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static long? Count(JsonNode? node) => node is JsonValue v && v.TryGetValue<long>(out var n) && n >= 0 ? n : null;

    /// <summary>The conventions' finish reasons from a Responses status: stop, tool_calls, length, content_filter, error.</summary>
    private static string FinishReason(JsonObject response, string? status) => status switch
    {
        ResponseStatuses.Completed when response["output"] is JsonArray output && output.Any(i => Text((i as JsonObject)?["type"]) is "function_call" or "custom_tool_call") => "tool_calls",
        ResponseStatuses.Completed => "stop",
        ResponseStatuses.Incomplete => Text((response["incomplete_details"] as JsonObject)?["reason"]) switch
        {
            "max_output_tokens" => "length",
            { } reason => reason,
            null => "incomplete",
        },
        ResponseStatuses.Failed => "error",
        _ => status ?? "unknown",
    };
}
