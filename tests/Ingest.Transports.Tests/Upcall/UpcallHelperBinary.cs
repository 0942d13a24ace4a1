using System.Diagnostics;
using Ingest.Transports.Tests.Support;

namespace Ingest.Transports.Tests.Upcall;

/// <summary>Builds the real helper (src/Ingest.Transports/Upcall/helper) once per test run with its own Makefile.</summary>
internal static class UpcallHelperBinary
{
    private static readonly Lazy<(string? Path, string Reason)> Built = new(Build);

    /// <summary>The helper's path, or skips the calling test with the reason it could not be built.</summary>
    public static string PathOrSkip()
    {
        var (path, reason) = Built.Value;
        if (path is null)
        {
            Assert.Skip(reason);
        }

        return path;
    }

    public static string? RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "Ingest.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName;
    }

    private static (string?, string) Build()
    {
        var root = RepoRoot();
        if (!OperatingSystem.IsLinux())
        {
            return (null, "the upcall helper is Linux-only");
        }

        if (root is null)
        {
            return (null, "repository root (Ingest.sln) not found above the test binaries");
        }

        // Reachable by another uid (the setpriv tests) wherever the build tree sits.
        var output = WorldReachable.CreateDirectory("ingest-upcall-helper-");
        var info = new ProcessStartInfo("make", ["-s", "-C", System.IO.Path.Combine(root, "src/Ingest.Transports/Upcall/helper"), $"OUT={output}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        try
        {
            using var make = Process.Start(info)!;
            var errors = make.StandardError.ReadToEndAsync();
            make.StandardOutput.ReadToEnd();
            if (!make.WaitForExit(60_000) || make.ExitCode != 0)
            {
                return (null, $"building the upcall helper failed (needs make and a C compiler with static libc): {errors.Result}");
            }
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (null, $"make is not available: {e.Message}");
        }

        return (System.IO.Path.Combine(output, "ingest-upcall"), "");
    }
}
