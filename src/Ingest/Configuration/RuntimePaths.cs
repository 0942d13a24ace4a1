namespace Ingest.Configuration;

/// <summary>Where a daemon keeps its sockets and small files when not told otherwise.</summary>
public static class RuntimePaths
{
    public static string DefaultDirectory()
    {
        if (Environment.IsPrivilegedProcess)
        {
            return "/run/ingest";
        }

        var runtime = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        return string.IsNullOrEmpty(runtime)
            ? Path.Combine(Path.GetTempPath(), $"ingest-{Environment.UserName}")
            : Path.Combine(runtime, "ingest");
    }
}
