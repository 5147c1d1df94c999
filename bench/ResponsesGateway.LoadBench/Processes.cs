using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ResponsesGateway.LoadBench;

/// <summary>A child process of the harness (Azurite, the mock, a gateway, Portkey) with its output in a log file.</summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private static readonly List<Process> Live = [];

    static ChildProcess() =>
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            lock (Live)
            {
                foreach (var p in Live)
                {
                    TryKill(p);
                }
            }
        };

    private readonly StreamWriter _log;

    private ChildProcess(string name, Process process, int port, StreamWriter log)
    {
        Name = name;
        Process = process;
        Port = port;
        _log = log;
    }

    public string Name { get; }

    public Process Process { get; }

    public int Port { get; }

    public Uri BaseUrl => new($"http://127.0.0.1:{Port}");

    public static ChildProcess Start(string name, string fileName, IEnumerable<string> arguments, IDictionary<string, string> environment, int port, string logDirectory, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var a in arguments)
        {
            info.ArgumentList.Add(a);
        }
        foreach (var (k, v) in environment)
        {
            info.Environment[k] = v;
        }
        Directory.CreateDirectory(logDirectory);
        var log = new StreamWriter(Path.Combine(logDirectory, name + ".log"), append: false) { AutoFlush = true };
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        lock (Live)
        {
            Live.Add(process);
        }
        return new ChildProcess(name, process, port, log);
    }

    public async Task WaitForPortAsync(TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < timeout)
        {
            if (Process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with code {Process.ExitCode} before listening on {Port}; see its log.");
            }
            if (await AcceptsAsync(Port))
            {
                return;
            }
            await Task.Delay(20);
        }
        throw new TimeoutException($"{Name} did not listen on 127.0.0.1:{Port} within {timeout.TotalSeconds:0} s.");
    }

    /// <summary>VmRSS of the process in KB, from /proc/&lt;pid&gt;/status.</summary>
    public long RssKb() => ReadStatus("VmRSS:");

    public long Threads() => ReadStatus("Threads:");

    /// <summary>User + system CPU time of the process and its waited-for children so far, in ms (/proc/&lt;pid&gt;/stat).</summary>
    public double CpuMs()
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{Process.Id}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // After "pid (comm) ": state is field 3, utime 14, stime 15 (1-based in proc(5)).
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return ticks * 1000.0 / ClockTicks;
        }
        catch (IOException)
        {
            return double.NaN;
        }
    }

    private const double ClockTicks = 100; // USER_HZ on Linux

    private long ReadStatus(string field)
    {
        foreach (var line in File.ReadLines($"/proc/{Process.Id}/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                var parts = line[field.Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(parts[0], CultureInfo.InvariantCulture);
            }
        }
        return -1;
    }

    public async ValueTask DisposeAsync()
    {
        TryKill(Process);
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await Process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            // Left to the OS.
        }
        lock (Live)
        {
            Live.Remove(Process);
        }
        Process.Dispose();
        await _log.DisposeAsync();
    }

    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    private static async Task<bool> AcceptsAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await client.ConnectAsync(IPAddress.Loopback, port, cts.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (log)
        {
            try
            {
                log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // The process outlived its log by a line.
            }
        }
    }

    private static void TryKill(Process p)
    {
        try
        {
            if (!p.HasExited)
            {
                p.Kill(entireProcessTree: true);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Gone already.
        }
    }
}
