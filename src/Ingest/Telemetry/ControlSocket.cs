using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Ingest.Telemetry;

/// <summary>
/// The daemon's Unix control socket: each connection receives one JSON <see cref="StatsSnapshot"/>
/// and is closed. `ingest stats` is its client. Mode 0600: the figures are the operator's.
/// </summary>
public sealed class ControlSocket : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly Func<StatsSnapshot> _snapshot;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private ControlSocket(string path, Socket listener, Func<StatsSnapshot> snapshot, ILogger logger)
    {
        Path = path;
        _listener = listener;
        _snapshot = snapshot;
        _logger = logger;
        _loop = Task.Run(AcceptLoopAsync);
    }

    public string Path { get; }

    /// <summary>
    /// The path `ingest stats` uses without --socket: the one a daemon started with the same environment
    /// chooses (INGEST_STATS__CONTROLSOCKET, else control.sock in INGEST_RUNTIMEDIRECTORY, else in the
    /// default runtime directory). Read through the configuration API so names match as the daemon's do.
    /// </summary>
    public static string DefaultPath()
    {
        var environment = new ConfigurationBuilder()
            .AddEnvironmentVariables(Configuration.ConfigurationLoader.EnvironmentPrefix)
            .Build();
        var configured = environment["Stats:ControlSocket"];
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured;
        }

        var runtime = environment["RuntimeDirectory"];
        return System.IO.Path.Combine(string.IsNullOrWhiteSpace(runtime) ? Configuration.RuntimePaths.DefaultDirectory() : runtime, "control.sock");
    }

    public static ControlSocket Start(string path, Func<StatsSnapshot> snapshot, ILogger logger)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        if (File.Exists(path))
        {
            // A socket left by a daemon that died; a live one would answer, so check first.
            if (TryConnect(path))
            {
                throw new InvalidOperationException($"another ingest daemon is serving {path}");
            }

            File.Delete(path);
        }

        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        listener.Listen(16);
        return new ControlSocket(path, listener, snapshot, logger);
    }

    /// <summary>Reads one snapshot from a running daemon.</summary>
    public static async Task<StatsSnapshot> ReadAsync(string path, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var snapshot = await JsonSerializer.DeserializeAsync(stream, StatsJsonContext.Default.StatsSnapshot, cancellationToken).ConfigureAwait(false);
        return snapshot ?? throw new InvalidDataException($"empty answer from {path}");
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }

        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
        }

        _stop.Dispose();
    }

    private static bool TryConnect(string path)
    {
        try
        {
            using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                _logger.LogWarning("control socket accept failed: {Message}", e.Message);
                continue;
            }

            using (client)
            {
                try
                {
                    var json = JsonSerializer.SerializeToUtf8Bytes(_snapshot(), StatsJsonContext.Default.StatsSnapshot);
                    await client.SendAsync(json, SocketFlags.None, _stop.Token).ConfigureAwait(false);
                    client.Shutdown(SocketShutdown.Both);
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException)
                {
                    _logger.LogDebug("control socket client went away: {Message}", e.Message);
                }
            }
        }
    }
}
