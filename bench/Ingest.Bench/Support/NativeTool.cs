using System.Diagnostics;

namespace Ingest.Bench.Support;

/// <summary>The C tools beside the harness: bench/NAME/NAME.c, built by the Makefile into out/bench/NAME.</summary>
internal static class NativeTool
{
    /// <summary>Returns out/bench/<paramref name="name"/>, building it first when missing or older than its source.</summary>
    public static async Task<string> LocateAsync(BenchContext context, string name, CancellationToken cancellationToken)
    {
        var path = Path.Combine(context.RepoRoot, "out", "bench", name);
        var source = Path.Combine(context.RepoRoot, "bench", name, name + ".c");
        if (File.Exists(path) && File.GetLastWriteTimeUtc(path) >= File.GetLastWriteTimeUtc(source))
        {
            return path;
        }

        // `make bench` builds it; a bare `dotnet run` of the bench builds it the same way.
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        context.Progress($"building {path}");
        using var gcc = Process.Start(new ProcessStartInfo("gcc", ["-O2", "-Wall", "-Wextra", "-Werror", "-o", path, source]))
            ?? throw new InvalidOperationException("cannot start gcc");
        await gcc.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        return gcc.ExitCode == 0 ? path : throw new InvalidOperationException($"gcc failed building {name} (exit {gcc.ExitCode})");
    }
}
