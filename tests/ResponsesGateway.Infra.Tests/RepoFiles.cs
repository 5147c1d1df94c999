namespace ResponsesGateway.Infra.Tests;

/// <summary>Locates the repository root (the folder holding Functions.sln) from the test's output folder.</summary>
internal static class RepoFiles
{
    private static readonly Lazy<string> LazyRoot = new(FindRoot);

    public static string Root => LazyRoot.Value;

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    public static string Read(params string[] parts) => File.ReadAllText(PathOf(parts));

    /// <summary>Repository-relative path with forward slashes, for messages.</summary>
    public static string Relative(string path) => Path.GetRelativePath(Root, path).Replace('\\', '/');

    public static IReadOnlyList<string> BicepFiles()
    {
        var infra = PathOf("infra");
        Assert.True(Directory.Exists(infra), $"infra/ not found under {Root}");
        var files = Directory.GetFiles(infra, "*.bicep", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        Assert.True(files.Count > 0, "no infra/**/*.bicep files");
        return files;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Functions.sln")) && Directory.Exists(Path.Combine(dir.FullName, "infra")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"Repository root (Functions.sln + infra/) not found above {AppContext.BaseDirectory}");
    }
}
