using System.Diagnostics;
using System.Text;
using ResponsesGateway.TestSupport;
using ResponsesGateway.Tests.Infrastructure;

namespace ResponsesGateway.Tests.Background;

/// <summary>
/// The standalone server as its own process (the build output of src/ResponsesGateway.Server), configured through
/// environment variables, so that a test can kill it outright (SIGKILL): no drain, no finally blocks, as when an
/// instance is recycled.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServerProcess(Process process, Uri baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static async Task<ServerProcess> StartAsync(IDictionary<string, string?> settings)
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
        var dll = Path.Combine(RepositoryRoot.Path, "src", "ResponsesGateway.Server", "bin", configuration, "net10.0", "ResponsesGateway.Server.dll");
        Assert.True(File.Exists(dll), $"{dll} is not built");
        var port = LoopbackPorts.Free();
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(dll);
        info.Environment["Urls"] = $"http://127.0.0.1:{port}"; // over the server's 8080 default
        info.Environment["Gateway__ApiKeys__tenant-a"] = GatewayHost.KeyA;
        info.Environment["Gateway__ApiKeys__tenant-b"] = GatewayHost.KeyB;
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in settings)
        {
            info.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        var process = Process.Start(info)!;
        var server = new ServerProcess(process, new Uri($"http://127.0.0.1:{port}"));
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var probe = new HttpClient { BaseAddress = server.BaseUrl, Timeout = TimeSpan.FromSeconds(5) };
        probe.DefaultRequestHeaders.Authorization = new("Bearer", GatewayHost.KeyA);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            Assert.False(process.HasExited, "the server exited: " + server.Output);
            try
            {
                using var models = await probe.GetAsync("/v1/models");
                if (models.IsSuccessStatusCode)
                {
                    return server;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            Assert.True(DateTime.UtcNow < deadline, "the server did not start: " + server.Output);
            await Task.Delay(200);
        }
    }

    /// <summary>SIGKILL: the process ends at once, mid-whatever.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            if (_output.Length < 32_000)
            {
                _output.AppendLine(line);
            }
        }
    }
}
