using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using ResponsesGateway.TestSupport;

namespace ResponsesGateway.Tests.Infrastructure;

/// <summary>
/// The standalone server as a process: the address it listens on comes from the usual ASP.NET Core places
/// (ASPNETCORE_URLS, --urls), and only when none is given from its own loopback default.
/// </summary>
public sealed class ServerListenAddressTests
{
    [Theory]
    [InlineData("environment")]
    [InlineData("argument")]
    public async Task The_server_listens_where_it_is_told(string how)
    {
        var port = LoopbackPorts.Free();
        var url = $"http://127.0.0.1:{port}";
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ResponsesGateway.Server.dll"));
        start.Environment.Remove("ASPNETCORE_URLS");
        if (how == "environment")
        {
            start.Environment["ASPNETCORE_URLS"] = url;
        }
        else
        {
            start.ArgumentList.Add("--urls");
            start.ArgumentList.Add(url);
        }
        start.Environment["Gateway__ApiKeys__t"] = "sk-listen-test";
        start.Environment["Storage__ConnectionString"] = "UseDevelopmentStorage=true";
        start.Environment["Upstreams__mock__Kind"] = "responses";
        // Nothing is called: /v1/models answers from the configuration.
        start.Environment["Upstreams__mock__BaseUrl"] = "http://127.0.0.1:9/v1";
        start.Environment["Upstreams__mock__Models"] = "listen-model";

        using var process = Process.Start(start)!;
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => output.Enqueue(e.Data ?? "");
        process.ErrorDataReceived += (_, e) => output.Enqueue(e.Data ?? "");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "sk-listen-test");
            var deadline = DateTime.UtcNow.AddSeconds(60);
            HttpResponseMessage? answer = null;
            while (answer is null && DateTime.UtcNow < deadline && !process.HasExited)
            {
                try
                {
                    answer = await http.GetAsync($"{url}/v1/models");
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(200);
                }
            }
            Assert.True(answer is not null, $"the server did not answer on {url}:\n{string.Join('\n', output)}");
            Assert.Equal(HttpStatusCode.OK, answer!.StatusCode);
            Assert.Contains("listen-model", await answer.Content.ReadAsStringAsync());
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
            await process.WaitForExitAsync();
        }
    }
}
