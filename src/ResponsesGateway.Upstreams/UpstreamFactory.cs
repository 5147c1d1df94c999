using Microsoft.Extensions.Logging;
using ResponsesGateway.Core.Options;
using ResponsesGateway.Core.Upstreams;
using ResponsesGateway.Upstreams.Http;
using ResponsesGateway.Upstreams.Responses;

namespace ResponsesGateway.Upstreams;

/// <summary>Builds the adapter for one configured upstream, by its kind.</summary>
public static class UpstreamFactory
{
    public static IUpstream Create(string name, UpstreamOptions options, GatewayOptions gateway, HttpClient client, ILoggerFactory loggers)
    {
        if (!Uri.TryCreate(options.BaseUrl, UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https"))
        {
            throw new InvalidOperationException($"Upstreams:{name}:BaseUrl must be an absolute http(s) URL.");
        }
        if (options.ApiKey?.StartsWith("@Microsoft.KeyVault(", StringComparison.OrdinalIgnoreCase) == true)
        {
            throw new InvalidOperationException($"Upstreams:{name}:ApiKey is an unresolved Key Vault reference; check the app identity's access to the vault.");
        }
        var http = new UpstreamHttp(client, new UpstreamCredentials(options), gateway);
        return options.Kind.ToLowerInvariant() switch
        {
            UpstreamKinds.Responses => new ResponsesUpstream(name, baseUrl, http, loggers.CreateLogger<ResponsesUpstream>()),
            UpstreamKinds.Chat => new Chat.ChatCompletionsUpstream(name, baseUrl, http, ChatProfile(name, options, gateway, loggers), loggers.CreateLogger<Chat.ChatCompletionsUpstream>()),
            _ => throw new InvalidOperationException($"Upstreams:{name}:Kind '{options.Kind}' is not one of: responses, chat."),
        };
    }

    private static Chat.ChatCapabilities ChatProfile(string name, UpstreamOptions options, GatewayOptions gateway, ILoggerFactory loggers)
    {
        var compaction = string.IsNullOrEmpty(gateway.CompactionKey) ? Chat.ChatCapabilities.EphemeralCompaction : new Chat.CompactionEnvelope(gateway.CompactionKey);
        if (compaction.IsEphemeral)
        {
            Chat.ChatLog.EphemeralCompactionKey(loggers.CreateLogger<Chat.ChatCompletionsUpstream>(), name);
        }
        return Chat.ChatCapabilities.From(name, options) with
        {
            Compaction = compaction,
            CompactionPrompt = string.IsNullOrWhiteSpace(gateway.CompactionPrompt) ? GatewayOptions.DefaultCompactionPrompt : gateway.CompactionPrompt,
        };
    }

    /// <summary>
    /// The one HttpClient for all upstream calls: pooled connections that are recycled (DNS changes), the configured
    /// connect timeout, and no client-wide timeout (each call has its own first-byte, idle and total limits).
    /// </summary>
    public static HttpClient CreateHttpClient(GatewayOptions gateway) => new(new SocketsHttpHandler
    {
        ConnectTimeout = TimeSpan.FromSeconds(gateway.UpstreamConnectTimeoutSeconds),
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        AutomaticDecompression = System.Net.DecompressionMethods.None,
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
    })
    {
        Timeout = System.Threading.Timeout.InfiniteTimeSpan,
    };
}
