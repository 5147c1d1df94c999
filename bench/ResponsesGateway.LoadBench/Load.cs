using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace ResponsesGateway.LoadBench;

/// <summary>Where a measured request goes: the URL, a fixed body and fixed headers.</summary>
internal sealed class Target
{
    public Target(string name, Uri url, string body, IReadOnlyDictionary<string, string>? headers = null)
    {
        Name = name;
        Url = url;
        Body = Encoding.UTF8.GetBytes(body);
        Headers = headers ?? new Dictionary<string, string>();
        Client = NewClient();
    }

    public string Name { get; }

    public Uri Url { get; }

    public byte[] Body { get; }

    public IReadOnlyDictionary<string, string> Headers { get; }

    public HttpClient Client { get; }

    public Target With(string name, string body) => new(name, Url, body, Headers);

    public HttpRequestMessage NewRequest(byte[]? body = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Url) { Content = new ByteArrayContent(body ?? Body), Version = HttpVersion.Version11 };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        foreach (var (k, v) in Headers)
        {
            request.Headers.TryAddWithoutValidation(k, v);
        }
        return request;
    }

    public static HttpClient NewClient() => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = 4096,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        UseProxy = false,
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.None,
        MaxResponseDrainSize = 0,
    })
    { Timeout = TimeSpan.FromSeconds(15) };
}

/// <summary>Latencies of one measured run, in milliseconds.</summary>
internal sealed record RunStats(string Target, double Rate, int Sent, int Errors, double AchievedRate, double P50, double P90, double P99, double Max, double P99Corrected)
{
    /// <summary>CPU time (user + system) per request of the process under test, and of the mock and Azurite behind it.</summary>
    public double CpuMsPerRequest { get; init; } = double.NaN;

    public double MockCpuMsPerRequest { get; init; } = double.NaN;

    public double AzuriteCpuMsPerRequest { get; init; } = double.NaN;

    public bool Sustained(double p99LimitMs) =>
        Errors <= Math.Max(1, Sent / 1000) && P99Corrected <= p99LimitMs && AchievedRate >= Rate * 0.95;
}

internal static class Load
{
    /// <summary>
    /// Open-loop constant-rate load: request i is due at start + i/rate whatever happened to earlier ones, so a slow
    /// server cannot slow the client down (no coordinated omission). A dedicated thread issues every request that is
    /// due, then sleeps about 1 ms. Latency is measured from the actual send (P50..Max) and from the due time
    /// (P99Corrected, what wrk2 reports; it includes the scheduler's ~1 ms wake-up jitter and any queueing).
    /// </summary>
    public static RunStats OpenLoop(Target target, double rate, TimeSpan duration) =>
        OpenLoop(target.Name, () => SendHttpAsync(target), rate, duration);

    /// <summary>The same for any operation that reports success (e.g. a direct table write).</summary>
    public static RunStats OpenLoop(string name, Func<Task<bool>> send, double rate, TimeSpan duration)
    {
        var total = Math.Max(1, (int)(rate * duration.TotalSeconds));
        var service = new double[total];
        var corrected = new double[total];
        var failed = new bool[total];
        var tasks = new Task[total];
        var interval = Stopwatch.Frequency / rate;
        var start = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 100;
        var scheduler = new Thread(() =>
        {
            var i = 0;
            while (i < total)
            {
                var now = Stopwatch.GetTimestamp();
                while (i < total && start + (long)(i * interval) <= now)
                {
                    tasks[i] = SendAsync(send, i, start + (long)(i * interval), service, corrected, failed);
                    i++;
                }
                if (i < total)
                {
                    var wait = (start + (long)(i * interval) - Stopwatch.GetTimestamp()) * 1000.0 / Stopwatch.Frequency;
                    if (wait >= 1)
                    {
                        Thread.Sleep(1);
                    }
                    else if (wait > 0)
                    {
                        Thread.Yield();
                    }
                }
            }
        })
        { IsBackground = true, Priority = ThreadPriority.AboveNormal, Name = "open-loop" };
        scheduler.Start();
        scheduler.Join();
        var sendEnd = Stopwatch.GetTimestamp();
        Task.WaitAll(tasks);
        var elapsed = (sendEnd - start) / (double)Stopwatch.Frequency;
        var errors = failed.Count(f => f);
        var ok = service.Where((_, i) => !failed[i]).ToArray();
        var co = corrected.Where((_, i) => !failed[i]).ToArray();
        Array.Sort(ok);
        Array.Sort(co);
        return new RunStats(name, rate, total, errors, total / Math.Max(elapsed, 1e-9) * (total - errors) / total,
            Pct(ok, 50), Pct(ok, 90), Pct(ok, 99), ok.Length == 0 ? double.NaN : ok[^1], Pct(co, 99));
    }

    private static async Task<bool> SendHttpAsync(Target target)
    {
        using var request = target.NewRequest();
        using var response = await target.Client.SendAsync(request, HttpCompletionOption.ResponseContentRead);
        _ = await response.Content.ReadAsByteArrayAsync();
        return response.StatusCode == HttpStatusCode.OK;
    }

    private static async Task SendAsync(Func<Task<bool>> send, int i, long due, double[] service, double[] corrected, bool[] failed)
    {
        var sent = Stopwatch.GetTimestamp();
        try
        {
            failed[i] = !await send();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or InvalidOperationException)
        {
            failed[i] = true;
        }
        var end = Stopwatch.GetTimestamp();
        service[i] = Ms(end - sent);
        corrected[i] = Ms(end - due);
    }

    /// <summary>Closed-loop warm-up: <paramref name="count"/> requests, <paramref name="concurrency"/> at a time.</summary>
    public static async Task<int> WarmAsync(Target target, int count, int concurrency)
    {
        var next = -1;
        var errors = 0;
        var workers = Enumerable.Range(0, concurrency).Select(async worker =>
        {
            while (Interlocked.Increment(ref next) < count)
            {
                try
                {
                    using var request = target.NewRequest();
                    using var response = await target.Client.SendAsync(request);
                    _ = await response.Content.ReadAsByteArrayAsync();
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        Interlocked.Increment(ref errors);
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        });
        await Task.WhenAll(workers);
        return errors;
    }

    /// <summary>One request timed end to end (ms); throws on a non-200.</summary>
    public static async Task<(double Ms, string Body)> TimedAsync(Target target, byte[]? body = null)
    {
        var sent = Stopwatch.GetTimestamp();
        using var request = target.NewRequest(body);
        using var response = await target.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var ms = Ms(Stopwatch.GetTimestamp() - sent);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"{target.Name}: HTTP {(int)response.StatusCode}: {text[..Math.Min(300, text.Length)]}");
        }
        return (ms, text);
    }

    /// <summary>One SSE request: time to the end of the first event (first blank line) and to the end of the stream.</summary>
    public static async Task<(double FirstEvent, double Total)> StreamOnceAsync(Target target)
    {
        var sent = Stopwatch.GetTimestamp();
        using var request = target.NewRequest();
        using var response = await target.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"{target.Name}: HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
        await using var stream = await response.Content.ReadAsStreamAsync();
        var first = await ReadFirstEventAsync(stream) ? Ms(Stopwatch.GetTimestamp() - sent) : double.NaN;
        await stream.CopyToAsync(Stream.Null);
        return (first, Ms(Stopwatch.GetTimestamp() - sent));
    }

    /// <summary>Reads until the first "\n\n" (the end of the first SSE event); false if the stream ended first.</summary>
    public static async Task<bool> ReadFirstEventAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        var buffer = new byte[8192];
        var previous = (byte)0;
        while (true)
        {
            var n = await stream.ReadAsync(buffer, cancellationToken);
            if (n == 0)
            {
                return false;
            }
            for (var i = 0; i < n; i++)
            {
                if (buffer[i] == (byte)'\n' && previous == (byte)'\n')
                {
                    return true;
                }
                if (buffer[i] != (byte)'\r')
                {
                    previous = buffer[i];
                }
            }
        }
    }

    public static double Pct(double[] sorted, double p)
    {
        if (sorted.Length == 0)
        {
            return double.NaN;
        }
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Where(v => !double.IsNaN(v)).OrderBy(v => v).ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    public static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}
