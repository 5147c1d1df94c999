namespace ResponsesGateway.Storage.Tables;

/// <summary>
/// Parses a storage connection string into the table endpoint and a shared-key credential.
/// Understands <c>UseDevelopmentStorage=true</c> (Azurite's well-known account), an explicit
/// <c>TableEndpoint</c>, or <c>DefaultEndpointsProtocol</c> + <c>AccountName</c> + <c>EndpointSuffix</c>.
/// Error messages name the missing or malformed part, never a value.
/// </summary>
internal sealed class TableConnectionString
{
    internal const string DevelopmentAccountName = "devstoreaccount1";

    // Public, documented emulator key (Azurite README); not a secret.
    internal const string DevelopmentAccountKey =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    internal static readonly Uri DevelopmentTableEndpoint = new("http://127.0.0.1:10002/devstoreaccount1");

    private TableConnectionString(Uri tableEndpoint, TableSharedKeyCredential credential)
    {
        TableEndpoint = tableEndpoint;
        Credential = credential;
    }

    public Uri TableEndpoint { get; }

    public TableSharedKeyCredential Credential { get; }

    public string AccountName => Credential.AccountName;

    public override string ToString() => $"TableEndpoint={TableEndpoint};AccountName={AccountName};AccountKey=***";

    public static TableConnectionString Parse(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var parts = Split(connectionString);

        if (parts.TryGetValue("UseDevelopmentStorage", out var dev) && string.Equals(dev, "true", StringComparison.OrdinalIgnoreCase))
        {
            var endpoint = DevelopmentTableEndpoint;
            if (parts.TryGetValue("DevelopmentStorageProxyUri", out var proxy))
            {
                var proxyUri = ParseUri(proxy, "DevelopmentStorageProxyUri");
                endpoint = new UriBuilder(proxyUri.Scheme, proxyUri.Host, 10002, DevelopmentAccountName).Uri;
            }

            return new TableConnectionString(endpoint, new TableSharedKeyCredential(DevelopmentAccountName, DevelopmentAccountKey));
        }

        if (parts.ContainsKey("SharedAccessSignature"))
        {
            throw new FormatException(
                "Storage connection string: SharedAccessSignature is not supported; use AccountName/AccountKey or an endpoint with a TokenCredential.");
        }

        var accountName = Require(parts, "AccountName");
        var accountKey = Require(parts, "AccountKey");

        Uri tableEndpoint;
        if (parts.TryGetValue("TableEndpoint", out var explicitEndpoint))
        {
            tableEndpoint = ParseUri(explicitEndpoint.TrimEnd('/'), "TableEndpoint");
        }
        else
        {
            var protocol = parts.GetValueOrDefault("DefaultEndpointsProtocol", "https");
            if (protocol is not ("http" or "https"))
            {
                throw new FormatException("Storage connection string: DefaultEndpointsProtocol must be 'http' or 'https'.");
            }

            var suffix = parts.GetValueOrDefault("EndpointSuffix", "core.windows.net").Trim('.');
            tableEndpoint = ParseUri($"{protocol}://{accountName}.table.{suffix}", "AccountName/EndpointSuffix");
        }

        TableSharedKeyCredential credential;
        try
        {
            credential = new TableSharedKeyCredential(accountName, accountKey);
        }
        catch (ArgumentException)
        {
            throw new FormatException("Storage connection string: AccountKey is not valid base64.");
        }

        return new TableConnectionString(tableEndpoint, credential);
    }

    private static Dictionary<string, string> Split(string connectionString)
    {
        var parts = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var index = 0;
        foreach (var segment in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            index++;
            // Split at the first '=' only: base64 keys end in '='.
            var eq = segment.IndexOf('=');
            if (eq <= 0)
            {
                throw new FormatException($"Storage connection string: segment {index} is not of the form Key=Value.");
            }

            var key = segment[..eq].Trim();
            var value = segment[(eq + 1)..].Trim();
            if (value.Length == 0)
            {
                throw new FormatException($"Storage connection string: '{key}' has an empty value.");
            }

            parts[key] = value;
        }

        return parts;
    }

    private static string Require(Dictionary<string, string> parts, string key) =>
        parts.TryGetValue(key, out var value)
            ? value
            : throw new FormatException($"Storage connection string is missing '{key}' (or use 'UseDevelopmentStorage=true' for Azurite).");

    private static Uri ParseUri(string value, string what) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri
            : throw new FormatException($"Storage connection string: {what} is not an absolute http(s) URI.");
}
