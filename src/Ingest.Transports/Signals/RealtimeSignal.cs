using System.Globalization;
using System.Runtime.InteropServices;
using Ingest.Transports.Interop;
using Tmds.Linux;

namespace Ingest.Transports.Signals;

/// <summary>
/// Real-time signal numbers as this process sees them, and the stock way to send one: a queued,
/// thread-directed signal (rt_tgsigqueueinfo) carrying a 32-bit value.
/// </summary>
public static class RealtimeSignal
{
    /// <summary>SIGRTMIN as glibc reports it (34: glibc keeps 32 and 33 for NPTL).</summary>
    public static int Min { get; } = LibC.SIGRTMIN;

    public static int Max { get; } = LibC.SIGRTMAX;

    /// <summary>The default signal: SIGRTMIN+6.</summary>
    public static int Default => Min + 6;

    /// <summary>
    /// Parses "40", "SIGRTMIN+6", "RTMIN+6" or "SIGRTMAX-2" and checks it with <see cref="Validate"/>.
    /// </summary>
    public static int Parse(string text)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        var s = text.Trim();
        if (s.StartsWith("SIG", StringComparison.OrdinalIgnoreCase))
        {
            s = s[3..];
        }

        int signo;
        if (s.StartsWith("RTMIN", StringComparison.OrdinalIgnoreCase))
        {
            signo = Min + ParseOffset(s.AsSpan(5), text);
        }
        else if (s.StartsWith("RTMAX", StringComparison.OrdinalIgnoreCase))
        {
            signo = Max + ParseOffset(s.AsSpan(5), text);
        }
        else if (!int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out signo))
        {
            throw new FormatException($"'{text}' is not a real-time signal (use a number or SIGRTMIN+n)");
        }

        Validate(signo);
        return signo;
    }

    /// <summary>
    /// Throws unless <paramref name="signo"/> is in SIGRTMIN+1..SIGRTMAX. SIGRTMIN itself belongs
    /// to the .NET runtime (CoreCLR injects activations with it): blocking or ignoring it would
    /// break thread suspension for the GC and the debugger.
    /// </summary>
    public static void Validate(int signo)
    {
        if (signo == Min)
        {
            throw new ArgumentOutOfRangeException(nameof(signo), signo, $"signal {signo} (SIGRTMIN) is reserved by the .NET runtime for activation injection; choose SIGRTMIN+1..SIGRTMAX ({Min + 1}..{Max})");
        }

        if (signo <= Min || signo > Max)
        {
            throw new ArgumentOutOfRangeException(nameof(signo), signo, $"signal {signo} is not a usable real-time signal; choose SIGRTMIN+1..SIGRTMAX ({Min + 1}..{Max})");
        }
    }

    /// <summary>
    /// Queues <paramref name="signo"/> with <paramref name="value"/> to thread <paramref name="tid"/>
    /// of process <paramref name="tgid"/>, as glibc's sigqueue would (SI_QUEUE, the caller's pid
    /// and uid). Returns 0, or the errno: EAGAIN when the receiver's RT queue (RLIMIT_SIGPENDING)
    /// is full, ESRCH when the thread is gone, EPERM without permission to signal it.
    /// </summary>
    public static unsafe int TryQueue(int tgid, int tid, int signo, int value)
    {
        var info = default(rt_siginfo);
        info.si_signo = signo;
        info.si_code = LibC.SI_QUEUE;
        info.si_pid = Environment.ProcessId;
        info.si_uid = LibC.getuid();
        info.si_value = value;
        return Sys.rt_tgsigqueueinfo(tgid, tid, signo, &info) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    private static int ParseOffset(ReadOnlySpan<char> rest, string text)
    {
        if (rest.IsEmpty)
        {
            return 0;
        }

        if ((rest[0] == '+' || rest[0] == '-')
            && int.TryParse(rest[1..], NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            return rest[0] == '+' ? n : -n;
        }

        throw new FormatException($"'{text}' is not a real-time signal (use a number or SIGRTMIN+n)");
    }
}
