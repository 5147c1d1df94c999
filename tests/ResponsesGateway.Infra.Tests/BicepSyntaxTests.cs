using System.Diagnostics;
using Xunit.Abstractions;

namespace ResponsesGateway.Infra.Tests;

/// <summary>
/// Runs tools/bicep-check.mjs (tree-sitter Bicep grammar, syntax only; the Bicep CLI is not installable here).
/// Needs Node 20 on PATH and `npm ci` in tools/.
/// </summary>
public sealed class BicepSyntaxTests(ITestOutputHelper output)
{
    [Fact]
    public void Every_infra_bicep_file_parses()
    {
        var (exitCode, stdout, stderr) = RunChecker();
        output.WriteLine(stdout);
        output.WriteLine(stderr);
        Assert.True(exitCode == 0, $"node tools/bicep-check.mjs exited with {exitCode}:\n{stdout}\n{stderr}");
        foreach (var file in RepoFiles.BicepFiles())
        {
            Assert.Contains($"ok    {RepoFiles.Relative(file)}", stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_checker_reports_a_broken_file_with_its_position()
    {
        var dir = Directory.CreateTempSubdirectory("bicep-check-");
        try
        {
            var broken = Path.Combine(dir.FullName, "broken.bicep");
            File.WriteAllText(broken, "param name string\n\nresource site 'Microsoft.Web/sites@2024-04-01' = {\n  name: name\n  properties: {\n    httpsOnly: true\n\noutput uri string = 'https://${site.properties.defaultHostName}'\n");
            var (exitCode, stdout, stderr) = RunChecker(dir.FullName);
            output.WriteLine(stdout);
            Assert.True(exitCode == 1, $"expected exit code 1 for a broken file, got {exitCode}:\n{stdout}\n{stderr}");
            Assert.Contains("FAIL", stdout, StringComparison.Ordinal);
            Assert.Matches(@"broken\.bicep:\d+:\d+: ", stdout);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static (int ExitCode, string Stdout, string Stderr) RunChecker(params string[] args)
    {
        var script = RepoFiles.PathOf("tools", "bicep-check.mjs");
        Assert.True(File.Exists(script), "tools/bicep-check.mjs is missing");
        Assert.True(Directory.Exists(RepoFiles.PathOf("tools", "node_modules", "web-tree-sitter")),
            "tools/node_modules/web-tree-sitter is missing: run `npm ci` in tools/ first");

        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = RepoFiles.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Fail($"`node` (Node 20) is needed on PATH to run tools/bicep-check.mjs: {e.Message}");
            throw;
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(120)))
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail("node tools/bicep-check.mjs did not finish within 120 s");
            }
            process.WaitForExit();
            return (process.ExitCode, stdout.Result, stderr.Result);
        }
    }
}
