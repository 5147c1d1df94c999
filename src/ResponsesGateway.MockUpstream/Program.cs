using System.Globalization;
using System.Net;

namespace ResponsesGateway.MockUpstream;

/// <summary>
/// Standalone entry point: <c>dotnet run --project src/ResponsesGateway.MockUpstream -- --urls http://127.0.0.1:5081</c>.
/// Reads <c>--urls</c> (or ASPNETCORE_URLS), MOCK_API_KEY, MOCK_TOKEN_DELAY_MS, MOCK_FIRST_BYTE_DELAY_MS.
/// Always binds loopback addresses only.
/// </summary>
internal static class Program
{
    private const string DefaultUrls = "http://127.0.0.1:5081";

    public static async Task<int> Main(string[] args)
    {
        var urls = ReadUrlsArgument(args) ?? Environment.GetEnvironmentVariable("ASPNETCORE_URLS");
        if (string.IsNullOrWhiteSpace(urls))
        {
            urls = DefaultUrls;
        }

        List<IPEndPoint> endpoints;
        try
        {
            endpoints = ParseEndpoints(urls);
        }
        catch (FormatException ex)
        {
            await Console.Error.WriteLineAsync("mock-upstream: " + ex.Message).ConfigureAwait(false);
            return 2;
        }

        var options = new MockUpstreamOptions
        {
            RequiredApiKey = Environment.GetEnvironmentVariable("MOCK_API_KEY") is { Length: > 0 } key ? key : null,
            TokenDelay = TimeSpan.FromMilliseconds(ReadInt("MOCK_TOKEN_DELAY_MS")),
            FirstByteDelay = TimeSpan.FromMilliseconds(ReadInt("MOCK_FIRST_BYTE_DELAY_MS")),
        };

        MockUpstreamServer server;
        try
        {
            server = await MockUpstreamServer.StartCoreAsync(options, endpoints, standalone: true, CancellationToken.None).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            await Console.Error.WriteLineAsync("mock-upstream: cannot bind " + urls + ": " + ex.Message).ConfigureAwait(false);
            return 1;
        }

        await using (server.ConfigureAwait(false))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"mock-upstream listening on {server.BaseUrl} (api key {(options.RequiredApiKey is null ? "not required" : "required")}, token delay {options.TokenDelay.TotalMilliseconds} ms, first-byte delay {options.FirstByteDelay.TotalMilliseconds} ms). Ctrl+C to stop."));
            await server.WaitForShutdownAsync().ConfigureAwait(false);
        }

        return 0;
    }

    private static string? ReadUrlsArgument(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (a.StartsWith("--urls=", StringComparison.Ordinal))
            {
                return a["--urls=".Length..];
            }

            if (a == "--urls" && i + 1 < args.Length)
            {
                return args[i + 1];
            }
        }

        return null;
    }

    private static int ReadInt(string name) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : 0;

    /// <summary>Maps every URL to a loopback endpoint (wildcards and localhost become 127.0.0.1; [::1] stays IPv6).</summary>
    internal static List<IPEndPoint> ParseEndpoints(string urls)
    {
        var endpoints = new List<IPEndPoint>();
        foreach (var raw in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // Uri cannot parse the Kestrel wildcards "*" and "+".
            var normalised = raw.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal);
            if (!Uri.TryCreate(normalised, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp)
            {
                throw new FormatException($"'{raw}' is not an http:// URL (https is not supported by the mock).");
            }

            var address = uri.Host is "[::1]" or "::1" ? IPAddress.IPv6Loopback : IPAddress.Loopback;
            if (uri.Host is not ("127.0.0.1" or "localhost" or "[::1]" or "::1"))
            {
                Console.Error.WriteLine($"mock-upstream: '{raw}' is not a loopback address; binding {address} instead.");
            }

            endpoints.Add(new IPEndPoint(address, uri.Port));
        }

        if (endpoints.Count == 0)
        {
            throw new FormatException("no URL given.");
        }

        return endpoints;
    }
}
