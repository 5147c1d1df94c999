using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using ResponsesGateway.TestSupport;

namespace ResponsesGateway.Tests.Infrastructure;

/// <summary>
/// Runs one of the scripts in <c>tools/js</c> that drive the official JS SDK and print one JSON line with what the SDK
/// returned; the line is the answer, stderr explains an empty one.
/// </summary>
public static class NodeScript
{
    public static async Task<JsonObject> RunAsync(string script, TimeSpan timeout, params string[] arguments)
    {
        var info = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryRoot.Path,
            StandardOutputEncoding = Encoding.UTF8,
        };
        info.ArgumentList.Add(Path.Combine(RepositoryRoot.Path, "tools", "js", script));
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        using var process = Process.Start(info)!;
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(timeout);
            var line = (await stdout).Trim();
            Assert.True(line.Length > 0, $"{script} printed nothing: " + await stderr);
            return JsonNode.Parse(line)!.AsObject();
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }
}
