using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace Ingest.Bench.Udp;

/// <summary>Finds (or builds) out/bench/udpgen and runs it, returning its JSON summary.</summary>
internal static class UdpGen
{
    public sealed record Result(long Sent, long Errors, double Seconds);

    public static async Task<string> LocateAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var path = Path.Combine(context.RepoRoot, "out", "bench", "udpgen");
        var source = Path.Combine(context.RepoRoot, "bench", "udpgen", "udpgen.c");
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
        return gcc.ExitCode == 0 ? path : throw new InvalidOperationException($"gcc failed building udpgen (exit {gcc.ExitCode})");
    }

    public static Process Start(string udpgen, IPEndPoint target, double seconds, int size, int batch, double rate = 0)
    {
        var start = new ProcessStartInfo(udpgen)
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["--target", target.ToString(), "--duration", seconds.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            "--size", size.ToString(System.Globalization.CultureInfo.InvariantCulture), "--batch", batch.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--rate", rate.ToString("R", System.Globalization.CultureInfo.InvariantCulture)])
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start) ?? throw new InvalidOperationException($"cannot start {udpgen}");
    }

    public static async Task<Result> WaitAsync(Process process, CancellationToken cancellationToken)
    {
        var output = await process.StandardOutput.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"udpgen exited with {process.ExitCode}: {output}");
        }

        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        return new Result(root.GetProperty("sent").GetInt64(), root.GetProperty("errors").GetInt64(), root.GetProperty("seconds").GetDouble());
    }
}
