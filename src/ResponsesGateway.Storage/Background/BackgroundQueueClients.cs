using Azure.Identity;
using Azure.Storage.Queues;
using ResponsesGateway.Core.Options;

namespace ResponsesGateway.Storage.Background;

/// <summary>
/// The run queue's client: the account of <c>Storage:ConnectionString</c> (Azurite locally: the connection string needs
/// a <c>QueueEndpoint</c> or is <c>UseDevelopmentStorage=true</c>), else <c>Background:QueueEndpoint</c> with a managed
/// identity. Messages are base64, as the Functions queue trigger expects by default.
/// </summary>
public static class BackgroundQueueClients
{
    public static QueueClient Create(StorageOptions storage, BackgroundOptions background, string? queueName = null)
    {
        var options = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        options.Retry.MaxRetries = Math.Max(0, storage.MaxRetries);
        options.Retry.Delay = TimeSpan.FromSeconds(Math.Max(0, storage.RetryDelaySeconds));
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(storage.NetworkTimeoutSeconds > 0 ? storage.NetworkTimeoutSeconds : 10);
        var name = queueName ?? background.QueueName;
        if (!string.IsNullOrWhiteSpace(storage.ConnectionString))
        {
            try
            {
                return new QueueClient(storage.ConnectionString, name, options);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException)
            {
                // Never the SDK's message: it may quote the connection string, key included.
                throw new FormatException("Storage:ConnectionString is not a valid storage connection string for the background queue.");
            }
        }
        if (string.IsNullOrWhiteSpace(background.QueueEndpoint))
        {
            throw new InvalidOperationException("The background queue is not configured: set Storage__ConnectionString or Background__QueueEndpoint with a managed identity.");
        }
        if (!Uri.TryCreate(background.QueueEndpoint.TrimEnd('/') + "/" + name, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps)
        {
            throw new FormatException("Background:QueueEndpoint must be an absolute https URI (tokens are only sent over TLS).");
        }
        var credential = new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = storage.ManagedIdentityClientId });
        return new QueueClient(uri, credential, options);
    }

    /// <summary>Where the Functions host, and the standalone consumer, put messages that failed too often.</summary>
    public static string PoisonQueueName(string queueName) => queueName + "-poison";
}
