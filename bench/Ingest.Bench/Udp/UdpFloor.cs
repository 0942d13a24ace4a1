using System.Globalization;
using System.Net;
using System.Text.Json;
using Ingest.Bench.Support;

namespace Ingest.Bench.Udp;

/// <summary>
/// out/bench/udpfloor (bench/udpfloor/udpfloor.c): the receive floor, a bare recvmmsg loop that only
/// counts datagrams, with the daemon's socket settings (8 MiB receive buffer, its default recvmmsg
/// batch, <see cref="Ingest.Transports.Udp.UdpSourceOptions.DefaultReceiveBatch"/>).
/// </summary>
internal sealed class UdpFloor : IDisposable
{
    private readonly ChildProcess _process;

    private UdpFloor(ChildProcess process, IPEndPoint endpoint)
    {
        _process = process;
        EndPoint = endpoint;
    }

    public IPEndPoint EndPoint { get; }

    public static Task<string> LocateAsync(BenchContext context, CancellationToken cancellationToken) =>
        NativeTool.LocateAsync(context, "udpfloor", cancellationToken);

    /// <summary>Binds a free loopback port; the floor exits once <paramref name="count"/> datagrams are received or dropped, or after 2 s of silence.</summary>
    public static async Task<UdpFloor> StartAsync(string udpfloor, long count)
    {
        var process = ChildProcess.Start(udpfloor, "--bind", "127.0.0.1:0", "--count", count.ToString(CultureInfo.InvariantCulture), "--idle-ms", "2000",
            "--batch", Ingest.Transports.Udp.UdpSourceOptions.DefaultReceiveBatch.ToString(CultureInfo.InvariantCulture));
        try
        {
            var port = int.Parse((await process.WaitForLineAsync("ready port=", TimeSpan.FromSeconds(10)).ConfigureAwait(false)).Split('=', 2)[1], CultureInfo.InvariantCulture);
            return new UdpFloor(process, new IPEndPoint(IPAddress.Loopback, port));
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    /// <summary>Waits for the floor to finish and returns its own account (CPU from getrusage: utime + stime).</summary>
    public async Task<FloorResult> WaitAsync()
    {
        var exit = await _process.WaitForExitAsync(TimeSpan.FromSeconds(120)).ConfigureAwait(false);
        var line = _process.Lines.LastOrDefault(l => l.StartsWith('{'));
        if (exit != 0 || line is null)
        {
            throw new InvalidOperationException($"udpfloor exited with {exit} and printed no summary");
        }

        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        return new FloorResult(root.GetProperty("received").GetInt64(), root.GetProperty("kernel_dropped").GetInt64(), root.GetProperty("batches").GetInt64(), root.GetProperty("cpu_us").GetInt64() * 1000);
    }

    public void Dispose() => _process.Dispose();
}

internal sealed record FloorResult(long Received, long KernelDropped, long Batches, long CpuNs);
