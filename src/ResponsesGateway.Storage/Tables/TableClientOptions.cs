using Azure.Core;

namespace ResponsesGateway.Storage.Tables;

/// <summary>
/// Pipeline options for <see cref="TableClient"/>. Everything from <see cref="ClientOptions"/> applies:
/// <c>Retry</c> (429/408/5xx and network errors are retried with back-off), <c>Transport</c>
/// (e.g. <c>new HttpClientTransport(sharedHttpClient)</c>), and <c>AddPolicy</c> for extra policies.
/// </summary>
public sealed class TableClientOptions : ClientOptions
{
    /// <summary>The <c>x-ms-version</c> sent; the Azure.Data.Tables default, accepted by Azurite.</summary>
    public string ServiceVersion { get; set; } = "2020-12-06";

    /// <summary>Token scope used with a <see cref="TokenCredential"/>.</summary>
    public string Audience { get; set; } = "https://storage.azure.com/.default";
}
