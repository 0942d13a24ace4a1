using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Ingest.Bench.Support;

namespace Ingest.Bench.Udp;

/// <summary>Finds (or builds) out/bench/udpgen and runs it, returning its JSON summary.</summary>
internal static class UdpGen
{
    public sealed record Result(long Sent, long Errors, double Seconds);

    public static Task<string> LocateAsync(BenchContext context, CancellationToken cancellationToken) =>
        NativeTool.LocateAsync(context, "udpgen", cancellationToken);

    /// <summary>Sends for <paramref name="seconds"/>, at <paramref name="rate"/> a second (0: as fast as the socket takes them).</summary>
    public static Process Start(string udpgen, IPEndPoint target, double seconds, int size, int batch, double rate = 0) =>
        Start(udpgen, target, size, batch, ["--duration", seconds.ToString("R", CultureInfo.InvariantCulture), "--rate", rate.ToString("R", CultureInfo.InvariantCulture)]);

    /// <summary>Sends <paramref name="count"/> datagrams, at <paramref name="rate"/> a second (0: as fast as the socket takes them).</summary>
    public static Process StartCount(string udpgen, IPEndPoint target, long count, double rate, int size, int batch) =>
        Start(udpgen, target, size, batch, ["--count", count.ToString(CultureInfo.InvariantCulture), "--rate", rate.ToString("R", CultureInfo.InvariantCulture)]);

    private static Process Start(string udpgen, IPEndPoint target, int size, int batch, string[] limits)
    {
        var start = new ProcessStartInfo(udpgen)
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["--target", target.ToString(), "--size", size.ToString(CultureInfo.InvariantCulture), "--batch", batch.ToString(CultureInfo.InvariantCulture), .. limits])
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
