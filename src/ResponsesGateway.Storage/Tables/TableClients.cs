using Azure.Data.Tables;
using Azure.Identity;
using ResponsesGateway.Core.Options;

namespace ResponsesGateway.Storage.Tables;

/// <summary>
/// Builds the Azure.Data.Tables client from the <c>Storage</c> settings: a connection string in any form the SDK
/// accepts (<c>UseDevelopmentStorage=true</c>, <c>TableEndpoint</c> + <c>AccountName</c> + <c>AccountKey</c>, account +
/// <c>EndpointSuffix</c>, <c>SharedAccessSignature</c>), otherwise <c>Storage:TableEndpoint</c> with a managed identity.
/// </summary>
public static class TableClients
{
    /// <summary>
    /// The SDK's retry policy, bounded by the <c>Storage</c> settings. A request that must be stored waits for the
    /// store; this bound is what keeps a dead store from holding every such request for long.
    /// </summary>
    public static TableClientOptions Options(StorageOptions options)
    {
        var client = new TableClientOptions();
        client.Retry.MaxRetries = Math.Max(0, options.MaxRetries);
        client.Retry.Mode = Azure.Core.RetryMode.Exponential;
        client.Retry.Delay = TimeSpan.FromSeconds(Math.Max(0, options.RetryDelaySeconds));
        client.Retry.MaxDelay = TimeSpan.FromSeconds(Math.Max(options.RetryDelaySeconds, 5));
        client.Retry.NetworkTimeout = TimeSpan.FromSeconds(options.NetworkTimeoutSeconds > 0 ? options.NetworkTimeoutSeconds : 10);
        return client;
    }

    /// <summary>The table client; <paramref name="clientOptions"/> defaults to <see cref="Options"/>.</summary>
    /// <exception cref="InvalidOperationException">Neither a connection string nor an endpoint is configured.</exception>
    /// <exception cref="FormatException">The connection string is malformed.</exception>
    public static TableClient Create(StorageOptions options, TableClientOptions? clientOptions = null)
    {
        clientOptions ??= Options(options);
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            try
            {
                return new TableClient(options.ConnectionString, options.TableName, clientOptions);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException)
            {
                // The SDK's own messages may quote the string, key included: name the setting, never its value.
                throw new FormatException("Storage:ConnectionString is not a valid storage connection string (expected e.g. UseDevelopmentStorage=true, "
                    + "or AccountName/AccountKey with TableEndpoint or EndpointSuffix, or TableEndpoint with SharedAccessSignature).");
            }
        }
        if (string.IsNullOrWhiteSpace(options.TableEndpoint))
        {
            throw new InvalidOperationException("Storage is not configured: set Storage__ConnectionString (UseDevelopmentStorage=true for Azurite) or Storage__TableEndpoint with a managed identity.");
        }
        if (!Uri.TryCreate(options.TableEndpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme != Uri.UriSchemeHttps)
        {
            throw new FormatException("Storage:TableEndpoint must be an absolute https URI (tokens are only sent over TLS).");
        }
        var credential = new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = options.ManagedIdentityClientId });
        return new TableClient(endpoint, options.TableName, credential, clientOptions);
    }
}
