using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Ingest.Sinks.Broker;

/// <summary>
/// Accepts TCP connections on a fixed endpoint and relays each, byte for byte, to a target
/// endpoint. Gives a mock broker (whose listener port librdkafka picks) a stable address.
/// When the target refuses (broker set down), the accepted connection is closed at once.
/// </summary>
internal sealed class TcpForwarder : IDisposable
{
    private readonly Socket _listener;
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<Socket, byte> _open = new();
    private readonly Task _acceptLoop;
    private long _bytesToTarget;
    private long _bytesFromTarget;

    public TcpForwarder(IPEndPoint listen, IPEndPoint target)
    {
        _target = target;
        _listener = new Socket(listen.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            _listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            _listener.Bind(listen);
            _listener.Listen(128);
        }
        catch
        {
            _listener.Dispose();
            throw;
        }

        Endpoint = (IPEndPoint)_listener.LocalEndPoint!;
        _acceptLoop = AcceptLoopAsync();
    }

    public IPEndPoint Endpoint { get; }

    /// <summary>Bytes relayed from clients to the target so far (what a broker receives from this endpoint's clients).</summary>
    public long BytesToTarget => Volatile.Read(ref _bytesToTarget);

    /// <summary>Bytes relayed from the target back to clients so far.</summary>
    public long BytesFromTarget => Volatile.Read(ref _bytesFromTarget);

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        foreach (Socket socket in _open.Keys)
        {
            socket.Dispose();
        }

        // The loops end on the cancellation; their exceptions are expected and not interesting.
        _acceptLoop.ContinueWith(static _ => { }, TaskScheduler.Default).Wait(TimeSpan.FromSeconds(5));
        _stop.Dispose();
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
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(Socket client)
    {
        var upstream = new Socket(_target.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        _open.TryAdd(client, 0);
        _open.TryAdd(upstream, 0);
        try
        {
            await upstream.ConnectAsync(_target, _stop.Token).ConfigureAwait(false);
            client.NoDelay = true;
            upstream.NoDelay = true;
            await using var fromClient = new NetworkStream(client, ownsSocket: false);
            await using var fromBroker = new NetworkStream(upstream, ownsSocket: false);
            Task up = PumpAsync(fromClient, fromBroker, toTarget: true);
            Task down = PumpAsync(fromBroker, fromClient, toTarget: false);
            // Either side closing ends the connection, as a direct connection would end.
            await Task.WhenAny(up, down).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException or IOException)
        {
            // Refused (broker down), reset, or shutting down: close both sides below.
        }
        finally
        {
            _open.TryRemove(client, out _);
            _open.TryRemove(upstream, out _);
            client.Dispose();
            upstream.Dispose();
        }
    }

    /// <summary>Copies until the source ends (as Stream.CopyToAsync), counting the bytes.</summary>
    private async Task PumpAsync(NetworkStream source, NetworkStream destination, bool toTarget)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer, _stop.Token).ConfigureAwait(false)) > 0)
            {
                await destination.WriteAsync(buffer.AsMemory(0, read), _stop.Token).ConfigureAwait(false);
                if (toTarget)
                {
                    Interlocked.Add(ref _bytesToTarget, read);
                }
                else
                {
                    Interlocked.Add(ref _bytesFromTarget, read);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
