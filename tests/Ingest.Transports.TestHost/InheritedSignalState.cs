using System.Runtime.InteropServices;

namespace Ingest.Transports.TestHost;

/// <summary>
/// Undoes the signal state a child inherits from the test runner: dispositions set to SIG_IGN and
/// masks survive fork and exec, and the runner's threads may have been created by a signal reader
/// thread (so they block its signals). A daemon started from a shell has neither.
/// </summary>
internal static unsafe partial class InheritedSignalState
{
    private const int SigUnblock = 1;

    public static void Reset(int signo)
    {
        if (signal(signo, 0) == -1)
        {
            throw new InvalidOperationException($"signal({signo}, SIG_DFL) failed: errno {Marshal.GetLastPInvokeError()}");
        }

        var set = stackalloc ulong[16];
        set[(signo - 1) / 64] = 1UL << ((signo - 1) % 64);
        var error = pthread_sigmask(SigUnblock, set, null);
        if (error != 0)
        {
            throw new InvalidOperationException($"pthread_sigmask failed: errno {error}");
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint signal(int signo, nint handler);

    [LibraryImport("libc")]
    private static partial int pthread_sigmask(int how, ulong* set, ulong* oldset);
}
