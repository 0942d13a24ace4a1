using System.Runtime.InteropServices;

namespace Ingest.Transports.Interop;

internal static unsafe partial class Libc
{
    public const int SI_KERNEL = 0x80;
    public const int ESRCH = 3;

    [LibraryImport(Lib)]
    public static partial uint getuid();

    /// <summary>sigqueue(3): a process-directed queued signal (union sigval passed as its 8 bytes).</summary>
    [LibraryImport(Lib, SetLastError = true)]
    public static partial int sigqueue(int pid, int signo, nint value);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int kill(int pid, int signo);

    /// <summary>
    /// rt_tgsigqueueinfo(2): queues <paramref name="signo"/> with <paramref name="info"/> to one thread.
    /// The kernel takes si_pid and si_uid from the caller as given (only si_code is policed).
    /// </summary>
    public static int rt_tgsigqueueinfo(int tgid, int tid, int signo, siginfo_t* info) =>
        (int)syscall(SYS_rt_tgsigqueueinfo, tgid, tid, signo, (long)info);
}

/// <summary>siginfo_t (128 bytes) with the SI_QUEUE member of its union (_rt: pid, uid, sigval).</summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
internal struct siginfo_t
{
    [FieldOffset(0)]
    public int si_signo;

    [FieldOffset(4)]
    public int si_errno;

    [FieldOffset(8)]
    public int si_code;

    [FieldOffset(16)]
    public int si_pid;

    [FieldOffset(20)]
    public uint si_uid;

    [FieldOffset(24)]
    public nint si_value;
}
