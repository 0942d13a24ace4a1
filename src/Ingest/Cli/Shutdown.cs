using System.Runtime.InteropServices;

namespace Ingest.Cli;

/// <summary>
/// Turns SIGTERM and SIGINT into cancellation so a command can finish cleanly (flush, exit 0).
/// A second signal while stopping is left to the runtime's default: the process ends at once.
/// </summary>
internal sealed class Shutdown : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly PosixSignalRegistration _term;
    private readonly PosixSignalRegistration _int;

    public Shutdown()
    {
        _term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        _int = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
    }

    public CancellationToken Token => _cts.Token;

    public void Dispose()
    {
        _term.Dispose();
        _int.Dispose();
        _cts.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        if (_cts.IsCancellationRequested)
        {
            return;
        }

        context.Cancel = true;
        _cts.Cancel();
    }
}
