using Ingest.Transports.Interop;
using Tmds.Linux;

namespace Ingest.Transports.Signals;

/// <summary>
/// Makes a real-time signal harmless to the whole process. The default action of an RT signal is
/// to terminate; with SIG_IGN a process-directed one is discarded instead. A thread that blocks
/// the signal still receives thread-directed ones: the kernel never treats a signal as ignored
/// while its target thread blocks it (kernel/signal.c, sig_ignored), so they queue for that
/// thread's signalfd.
/// </summary>
internal static class SignalDisposition
{
    public static unsafe void Ignore(int signo)
    {
        var action = default(sigaction);
        action.sa_handler = LibC.SIG_IGN;
        Sys.Check(LibC.sigaction(signo, &action, null), "sigaction(SIG_IGN)", signo);
    }

    public static unsafe bool IsIgnored(int signo)
    {
        var current = default(sigaction);
        Sys.Check(LibC.sigaction(signo, null, &current), "sigaction", signo);
        return current.sa_handler == LibC.SIG_IGN;
    }
}
