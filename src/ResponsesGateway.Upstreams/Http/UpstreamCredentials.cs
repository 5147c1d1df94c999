using System.Net.Http.Headers;
using Azure.Core;
using Azure.Identity;
using ResponsesGateway.Core.Options;

namespace ResponsesGateway.Upstreams.Http;

/// <summary>
/// Puts the upstream's own credentials on a request: its key in the configured header, or an Entra ID token for a
/// managed identity (Azure OpenAI). The client's key never goes upstream.
/// </summary>
internal sealed class UpstreamCredentials
{
    private readonly UpstreamOptions _options;
    private readonly TokenCredential? _credential;

    public UpstreamCredentials(UpstreamOptions options)
    {
        _options = options;
        if (string.Equals(options.Auth, UpstreamAuthModes.ManagedIdentity, StringComparison.OrdinalIgnoreCase))
        {
            _credential = string.IsNullOrEmpty(options.ManagedIdentityClientId)
                ? new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned)
                : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(options.ManagedIdentityClientId));
        }
    }

    public async ValueTask ApplyAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (_credential is not null)
        {
            // Azure.Identity caches tokens and refreshes them before expiry, so this is a dictionary hit per request.
            var token = await _credential.GetTokenAsync(new TokenRequestContext([_options.TokenScope]), cancellationToken);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.Token);
            return;
        }
        if (string.IsNullOrEmpty(_options.ApiKey))
        {
            return;
        }
        if (string.Equals(_options.ApiKeyHeader, "Authorization", StringComparison.OrdinalIgnoreCase))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _options.ApiKey);
        }
        else
        {
            request.Headers.TryAddWithoutValidation(_options.ApiKeyHeader, _options.ApiKey);
        }
    }
}
