using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Ingest.Telemetry;

namespace Ingest.Bench.Support;

/// <summary>
/// `ingest run` (the published daemon) receiving UDP on a free loopback port and publishing into a
/// separate `ingest broker` process, measured from outside: its control socket's figures, /proc.
/// Each instance has its own runtime directory, so runs never share state or a control socket.
/// </summary>
internal sealed class IngestUnderTest : IAsyncDisposable
{
    private readonly ChildProcess _broker;
    private readonly string _runtimeDirectory;

    private IngestUnderTest(ChildProcess broker, ChildProcess daemon, IPEndPoint udp, string runtimeDirectory)
    {
        _broker = broker;
        Daemon = daemon;
        Udp = udp;
        _runtimeDirectory = runtimeDirectory;
    }

    public ChildProcess Daemon { get; }

    /// <summary>Where the daemon listens for UDP.</summary>
    public IPEndPoint Udp { get; }

    private static readonly Dictionary<string, bool> SpoolSupport = new(StringComparer.Ordinal);

    public string ControlSocketPath => Path.Combine(_runtimeDirectory, "control.sock");

    /// <summary>
    /// Starts the broker, then the daemon with <paramref name="extraArgs"/> after --bootstrap and --udp;
    /// returns once the control socket answers and the producer had <paramref name="settle"/> to connect.
    /// </summary>
    public static Task<IngestUnderTest> StartAsync(BenchContext context, TimeSpan settle, CancellationToken cancellationToken, params string[] extraArgs) =>
        StartAsync(context.IngestPath, settle, cancellationToken, extraArgs);

    /// <summary>As above, with the daemon and broker from the build at <paramref name="ingestPath"/>.</summary>
    public static async Task<IngestUnderTest> StartAsync(string ingestPath, TimeSpan settle, CancellationToken cancellationToken, params string[] extraArgs)
    {
        if (!File.Exists(ingestPath))
        {
            throw new InvalidOperationException($"{ingestPath} is missing: run `make build` (make bench does)");
        }

        var broker = ChildProcess.Start(ingestPath, "broker");
        try
        {
            var bootstrap = (await broker.WaitForLineAsync("bootstrap=", TimeSpan.FromSeconds(30)).ConfigureAwait(false)).Split('=', 2)[1];
            var port = FreeUdpPort();
            var runtime = Directory.CreateTempSubdirectory("ingest-bench-").FullName;
            string[] spool = HasSpool(ingestPath) ? ["--spool-dir", Path.Combine(runtime, "spool")] : [];
            ChildProcess daemon = ChildProcess.Start(ingestPath, ["run", "--bootstrap", bootstrap, "--udp", $"127.0.0.1:{port}", "--set", $"RuntimeDirectory={runtime}",
                .. spool, .. extraArgs]);
            var run = new IngestUnderTest(broker, daemon, new IPEndPoint(IPAddress.Loopback, port), runtime);
            await daemon.WaitForLineAsync("bootstrap=", TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            for (var i = 0; i < 500 && !File.Exists(run.ControlSocketPath); i++)
            {
                await Task.Delay(20, cancellationToken).ConfigureAwait(false);
            }

            await Task.Delay(settle, cancellationToken).ConfigureAwait(false);
            return run;
        }
        catch
        {
            broker.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Whether the build at <paramref name="ingestPath"/> has a spool (`run --spool-dir`): a
    /// baseline from before it (e.g. the main issue 14 was filed against) refuses the flag and
    /// any Spool key, and has no spool to keep out of /var/lib/ingest either.
    /// </summary>
    private static bool HasSpool(string ingestPath)
    {
        lock (SpoolSupport)
        {
            if (!SpoolSupport.TryGetValue(ingestPath, out var has))
            {
                using var help = Process.Start(new ProcessStartInfo(ingestPath, ["run", "--help"]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
                has = help.StandardOutput.ReadToEnd().Contains("--spool-dir", StringComparison.Ordinal);
                help.WaitForExit();
                SpoolSupport[ingestPath] = has;
            }

            return has;
        }
    }

    public async Task<SourceSnapshot> UdpSnapshotAsync(CancellationToken cancellationToken)
    {
        var snapshot = await ControlSocket.ReadAsync(ControlSocketPath, cancellationToken).ConfigureAwait(false);
        return snapshot.Sources.Single(s => s.Channel == "udp");
    }

    /// <summary>
    /// Waits until every one of <paramref name="sent"/> datagrams is delivered (delivery reports) or
    /// counted as dropped, or until nothing moved for <paramref name="quiet"/>; returns the last figures.
    /// </summary>
    public async Task<SourceSnapshot> WaitAccountedAsync(long sent, TimeSpan quiet, CancellationToken cancellationToken)
    {
        long last = -1;
        var stableSince = DateTime.UtcNow;
        while (true)
        {
            var udp = await UdpSnapshotAsync(cancellationToken).ConfigureAwait(false);
            var accounted = udp.Delivered + udp.DroppedTotal + udp.Transport.GetValueOrDefault("kernel_dropped");
            if (accounted >= sent)
            {
                return udp;
            }

            if (accounted != last)
            {
                last = accounted;
                stableSince = DateTime.UtcNow;
            }
            else if (DateTime.UtcNow - stableSince > quiet)
            {
                return udp;
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>SIGTERM to the daemon (it flushes), then to the broker; throws when the daemon did not exit 0.</summary>
    public async Task StopAsync()
    {
        var exit = await Daemon.TerminateAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        await _broker.TerminateAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        if (exit != 0)
        {
            throw new InvalidOperationException($"ingest run exited with {exit}");
        }
    }

    public ValueTask DisposeAsync()
    {
        Daemon.Dispose();
        _broker.Dispose();
        try
        {
            Directory.Delete(_runtimeDirectory, recursive: true);
        }
        catch (IOException)
        {
            // a file the daemon still held; the temp directory is the system's to clean
        }

        return ValueTask.CompletedTask;
    }

    public static int FreeUdpPort()
    {
        using var probe = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.Client.LocalEndPoint!).Port;
    }
}
