using System.Diagnostics;
using System.Reflection;
using Xunit.Abstractions;

namespace ResponsesGateway.Infra.Tests;

/// <summary>
/// The real Bicep CLI (restored from NuGet by this project) compiles and lints infra/main.bicep, with the rules of
/// infra/bicepconfig.json (recent API versions, no unused parameters or variables, secure values for secure inputs)
/// raised to warnings. Any error or warning fails.
/// </summary>
public sealed class BicepCliTests(ITestOutputHelper output)
{
    private static string Bicep =>
        Path.Combine(typeof(BicepCliTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "BicepCliDirectory").Value!, "tools", "bicep");

    [Fact]
    public void Main_bicep_builds_without_a_warning()
    {
        var target = Path.Combine(Path.GetTempPath(), "main-" + Guid.NewGuid().ToString("N") + ".json");
        try
        {
            var (exitCode, stdout, stderr) = Run("build", RepoFiles.PathOf("infra", "main.bicep"), "--outfile", target);
            AssertClean(exitCode, stdout, stderr);
            Assert.True(new FileInfo(target).Length > 1000, "bicep build wrote no ARM template");
        }
        finally
        {
            File.Delete(target);
        }
    }

    [Fact]
    public void Main_bicep_lints_without_a_warning()
    {
        var (exitCode, stdout, stderr) = Run("lint", RepoFiles.PathOf("infra", "main.bicep"));
        AssertClean(exitCode, stdout, stderr);
    }

    [Fact]
    public void Lint_reports_what_the_configured_rules_forbid()
    {
        // The same rules, on a file that breaks two of them: an old API version and an unused parameter.
        var dir = Directory.CreateTempSubdirectory("bicep-lint-");
        try
        {
            File.Copy(RepoFiles.PathOf("infra", "bicepconfig.json"), Path.Combine(dir.FullName, "bicepconfig.json"));
            var file = Path.Combine(dir.FullName, "old.bicep");
            File.WriteAllText(file, "param unused string\n\nresource plan 'Microsoft.Web/serverfarms@2022-03-01' = {\n  name: 'plan'\n  location: resourceGroup().location\n  sku: { name: 'FC1', tier: 'FlexConsumption' }\n}\n");
            var (_, stdout, stderr) = Run("lint", file);
            var text = stdout + stderr;
            output.WriteLine(text);
            Assert.Contains("use-recent-api-versions", text, StringComparison.Ordinal);
            Assert.Contains("no-unused-params", text, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Build_fails_on_a_broken_file()
    {
        var dir = Directory.CreateTempSubdirectory("bicep-build-");
        try
        {
            var file = Path.Combine(dir.FullName, "broken.bicep");
            File.WriteAllText(file, "param name string\n\nresource site 'Microsoft.Web/sites@2025-03-01' = {\n  name: name\n  properties: {\n    httpsOnly: true\n\noutput uri string = 'https://${site.properties.defaultHostName}'\n");
            var (exitCode, stdout, stderr) = Run("build", file, "--stdout");
            output.WriteLine(stderr);
            Assert.NotEqual(0, exitCode);
            Assert.Matches(@"broken\.bicep\(\d+,\d+\) : Error BCP\d+", stderr);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private void AssertClean(int exitCode, string stdout, string stderr)
    {
        output.WriteLine(stderr);
        Assert.True(exitCode == 0, $"bicep exited with {exitCode}:\n{stderr}");
        Assert.True(!stderr.Contains(": Warning ", StringComparison.Ordinal) && !stderr.Contains(": Error ", StringComparison.Ordinal), stderr);
        Assert.DoesNotContain(": Warning ", stdout, StringComparison.Ordinal);
    }

    private static (int ExitCode, string Stdout, string Stderr) Run(params string[] args)
    {
        Assert.True(File.Exists(Bicep), $"the Bicep CLI is missing at {Bicep}: restore this test project first");
        var start = new ProcessStartInfo(Bicep)
        {
            WorkingDirectory = RepoFiles.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        // Offline: no telemetry, and no attempt to reach a registry.
        start.Environment["BICEP_TELEMETRY_ENABLED"] = "false";
        using var process = Process.Start(start) ?? throw new InvalidOperationException("bicep did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(180)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("bicep did not finish within 180 s");
        }
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
