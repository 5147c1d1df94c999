using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ResponsesGateway.TestSupport;

/// <summary>
/// A real Azurite Table emulator (tools/node_modules/.bin/azurite-table) on a free loopback port, in-memory by
/// default: stopping or restarting then loses all data. <see cref="StartPersistentAsync"/> keeps the data on disk in a
/// temporary folder instead, and stops Azurite gracefully so it saves what it holds: a restart then keeps every
/// acknowledged write. Restart keeps the port so clients built earlier reconnect (for fault tests). Disposing kills
/// the whole process tree.
/// </summary>
public sealed class AzuriteServer : IAsyncDisposable
{
    public const string AccountName = "devstoreaccount1";

    // Azurite's documented development key; not a secret.
    public const string AccountKey =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    private readonly string _executable;
    private readonly string _workDirectory;
    private readonly bool _persistent;
    private readonly string _service;
    private Process? _process;
    private StringBuilder _output = new();

    private AzuriteServer(string executable, int port, bool persistent, string service = "table")
    {
        _service = service;
        _executable = executable;
        _persistent = persistent;
        Port = port;
        _workDirectory = Path.Combine(Path.GetTempPath(), "azurite-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_workDirectory);
    }

    public int Port { get; }

    /// <summary>Path-style endpoint: <c>http://127.0.0.1:{port}/devstoreaccount1</c>.</summary>
    public Uri TableEndpoint => new($"http://127.0.0.1:{Port}/{AccountName}");

    /// <summary>An explicit connection string (not the shorthand, which would point at port 10002).</summary>
    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};TableEndpoint={TableEndpoint};";

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The queue endpoint of an emulator started with <see cref="StartQueueAsync"/>.</summary>
    public Uri QueueEndpoint => new($"http://127.0.0.1:{Port}/{AccountName}");

    /// <summary>A connection string naming both this table emulator and <paramref name="queue"/> (background runs).</summary>
    public string ConnectionStringWithQueue(AzuriteServer queue) => ConnectionString + $"QueueEndpoint={queue.QueueEndpoint};";

    /// <summary>Azurite's queue service (azurite-queue) on a free loopback port, in memory.</summary>
    public static Task<AzuriteServer> StartQueueAsync(CancellationToken cancellationToken = default) =>
        StartOnFreePortAsync(port => new AzuriteServer(FindExecutable("queue"), port, persistent: false, service: "queue"), cancellationToken);

    /// <summary>Starts Azurite on a free port and waits (up to 90 s) until it accepts connections.</summary>
    public static Task<AzuriteServer> StartAsync(CancellationToken cancellationToken = default) => StartAsync(persistent: false, cancellationToken);

    /// <summary>Like <see cref="StartAsync(CancellationToken)"/>, with the data on disk so that it survives <see cref="RestartAsync"/>.</summary>
    public static Task<AzuriteServer> StartPersistentAsync(CancellationToken cancellationToken = default) => StartAsync(persistent: true, cancellationToken);

    /// <summary>
    /// Starts Azurite on <paramref name="port"/> (e.g. 10002, where <c>UseDevelopmentStorage=true</c> points); throws
    /// <see cref="InvalidOperationException"/> mentioning EADDRINUSE when the port is taken.
    /// </summary>
    public static async Task<AzuriteServer> StartOnPortAsync(int port, CancellationToken cancellationToken = default)
    {
        var server = new AzuriteServer(FindExecutable(), port, persistent: false);
        try
        {
            await server.StartProcessAsync(cancellationToken).ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static Task<AzuriteServer> StartAsync(bool persistent, CancellationToken cancellationToken) =>
        StartOnFreePortAsync(port => new AzuriteServer(FindExecutable(), port, persistent), cancellationToken);

    private static async Task<AzuriteServer> StartOnFreePortAsync(Func<int, AzuriteServer> create, CancellationToken cancellationToken)
    {
        // The free port can be taken by another test's server before Azurite binds it; Azurite then exits with
        // EADDRINUSE and another port is tried.
        for (var attempt = 1; ; attempt++)
        {
            var server = create(LoopbackPorts.Free());
            try
            {
                await server.StartProcessAsync(cancellationToken).ConfigureAwait(false);
                return server;
            }
            catch (InvalidOperationException ex) when (attempt < 5 && ex.Message.Contains("EADDRINUSE", StringComparison.Ordinal))
            {
                await server.DisposeAsync().ConfigureAwait(false);
            }
            catch
            {
                await server.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
    }

    /// <summary>
    /// Kills the emulator (process tree) and waits for it to exit. In-memory data is lost; a persistent emulator is
    /// first asked to close (SIGINT), which saves its data, and killed only if it does not exit within 10 s.
    /// </summary>
    public async Task StopAsync()
    {
        var process = _process;
        _process = null;
        if (process is null)
        {
            return;
        }

        try
        {
            if (_persistent && !OperatingSystem.IsWindows() && !process.HasExited && await InterruptAsync(process.Id).ConfigureAwait(false))
            {
                using var graceful = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try
                {
                    await process.WaitForExitAsync(graceful.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // Did not close in time: killed below.
                }
            }
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            }
        }
        catch (InvalidOperationException)
        {
            // Already exited between the check and the kill.
        }
        finally
        {
            process.Dispose();
        }
    }

    /// <summary>Stops and starts again on the same port (empty storage afterwards, unless persistent).</summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        await StopAsync().ConfigureAwait(false);
        await StartProcessAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        try
        {
            Directory.Delete(_workDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp folder left behind is harmless.
        }
    }

    private async Task StartProcessAsync(CancellationToken cancellationToken)
    {
        string[] arguments =
        [
            $"--{_service}Host", "127.0.0.1",
            $"--{_service}Port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // Azurite refuses --location together with --inMemoryPersistence.
            .. (_persistent ? (string[])["--location", Path.Combine(_workDirectory, "data")] : ["--inMemoryPersistence"]),
            "--skipApiVersionCheck", "--loose", "--disableTelemetry",
        ];
        var info = new ProcessStartInfo(_executable)
        {
            WorkingDirectory = _workDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            CreateNoWindow = true,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var command = _executable + " " + string.Join(' ', arguments);
        var output = new StringBuilder();
        _output = output;
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            process.Dispose();
            throw new InvalidOperationException($"Could not start '{command}': {ex.Message}. {InstallHint}", ex);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        KillOnExit(process);

        var deadline = Stopwatch.StartNew();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                // Let the output readers drain before reporting.
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
                _process = null;
                throw new InvalidOperationException(
                    $"Azurite exited with code {process.ExitCode} before accepting connections.\nCommand: {command}\nOutput:\n{Snapshot(output)}\n{InstallHint}");
            }

            // Azurite's own "started" line first: a port that merely accepts connections may belong to another test's
            // server that took it before Azurite could bind it, and the gateway would then store into a stranger.
            // (The queue service words it "successfully listens on http://127.0.0.1:port".)
            var started = Snapshot(output);
            if ((started.Contains($"successfully started on 127.0.0.1:{Port}", StringComparison.Ordinal)
                    || started.Contains($"successfully listens on http://127.0.0.1:{Port}", StringComparison.Ordinal))
                && await AcceptsConnectionsAsync(Port, cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            if (deadline.Elapsed > StartTimeout)
            {
                await StopAsync().ConfigureAwait(false);
                throw new TimeoutException(
                    $"Azurite did not accept connections on 127.0.0.1:{Port} within {StartTimeout.TotalSeconds:0} s.\nCommand: {command}\nOutput:\n{Snapshot(output)}\n{InstallHint}");
            }

            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    // Node's handler for SIGINT is where Azurite saves its database before exiting; Process.Kill sends SIGKILL.
    private static async Task<bool> InterruptAsync(int pid)
    {
        try
        {
            using var kill = Process.Start(new ProcessStartInfo("kill", ["-INT", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false });
            if (kill is null)
            {
                return false;
            }
            await kill.WaitForExitAsync().ConfigureAwait(false);
            return kill.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // no kill(1): killed the hard way
        }
    }

    private const string InstallHint = "Install the Node tools with `npm ci --prefix tools` from the repository root.";

    // A test host that is killed or crashes skips DisposeAsync; make sure Node does not outlive it.
    private static void KillOnExit(Process process) =>
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }
            }
            catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Already gone or disposed.
            }
        };

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            // Keep the tail bounded: only the start-up lines matter for diagnostics.
            if (output.Length < 16_000)
            {
                output.AppendLine(line);
            }
        }
    }

    private static string Snapshot(StringBuilder output)
    {
        lock (output)
        {
            return output.Length == 0 ? "(none)" : output.ToString();
        }
    }

    private static async Task<bool> AcceptsConnectionsAsync(int port, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(TimeSpan.FromSeconds(1));
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port, attempt.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is SocketException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }

    private static string FindExecutable(string service = "table")
    {
        var name = OperatingSystem.IsWindows() ? $"azurite-{service}.cmd" : $"azurite-{service}";
        var path = Path.Combine(RepositoryRoot.Path, "tools", "node_modules", ".bin", name);
        return File.Exists(path)
            ? path
            : throw new InvalidOperationException($"Azurite is not installed: {path} does not exist. {InstallHint}");
    }
}
