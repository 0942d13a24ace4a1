namespace Ingest.Transports.Tests;

/// <summary>The repository root: the nearest directory above the test output holding Ingest.sln.</summary>
internal static class RepoRoot
{
    public static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Ingest.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no Ingest.sln above {AppContext.BaseDirectory}");
    }
}
