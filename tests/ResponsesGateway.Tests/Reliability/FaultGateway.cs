using System.Diagnostics;
using System.Net.Sockets;
using ResponsesGateway.Tests.Infrastructure;

namespace ResponsesGateway.Tests.Reliability;

/// <summary>Settings and helpers shared by the reliability tests.</summary>
internal static class FaultGateway
{
    /// <summary>Every request of these tests must end within this, whatever the upstream does.</summary>
    public static readonly TimeSpan RequestBound = TimeSpan.FromSeconds(15);

    /// <summary>Fast retries, so a test that exercises them stays short.</summary>
    public static Dictionary<string, string?> FastRetries(int retries = 2) => new()
    {
        ["Gateway:UpstreamMaxRetries"] = retries.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Gateway:UpstreamRetryDelaySeconds"] = "0.05",
        ["Gateway:UpstreamMaxRetryDelaySeconds"] = "2",
    };

    public static Dictionary<string, string?> With(this Dictionary<string, string?> settings, string key, string? value)
    {
        settings[key] = value;
        return settings;
    }

    public static Dictionary<string, string?> Merge(params IDictionary<string, string?>[] parts)
    {
        var merged = new Dictionary<string, string?>();
        foreach (var part in parts)
        {
            foreach (var (key, value) in part)
            {
                merged[key] = value;
            }
        }
        return merged;
    }

    public static HttpClient Client(GatewayHost gateway)
    {
        var client = gateway.CreateClient();
        client.Timeout = RequestBound;
        return client;
    }

    /// <summary>Runs <paramref name="action"/> and returns how long it took.</summary>
    public static async Task<TimeSpan> TimeAsync(Func<Task> action)
    {
        var watch = Stopwatch.StartNew();
        await action();
        return watch.Elapsed;
    }

    /// <summary>
    /// A loopback port that accepts no connection: its listen backlog is full, so a connect hangs until the
    /// caller's connect timeout (Linux drops the SYN instead of refusing it).
    /// </summary>
    public static async Task<(Socket Listener, Socket Filler, int Port)> BlackHoleAsync()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        listener.Listen(0);
        var port = ((System.Net.IPEndPoint)listener.LocalEndPoint!).Port;
        var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await filler.ConnectAsync(System.Net.IPAddress.Loopback, port);
        return (listener, filler, port);
    }
}
