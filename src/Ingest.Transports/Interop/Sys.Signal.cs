using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Ingest.Transports.Interop;

/// <summary>signalfd(2) and rt_tgsigqueueinfo(2): Tmds.LibC 0.5 declares neither.</summary>
internal static unsafe partial class Sys
{
    public const int SFD_NONBLOCK = 0x800;
    public const int SFD_CLOEXEC = 0x80000;

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int signalfd(int fd, sigset_t* mask, int flags);

    /// <summary>
    /// rt_tgsigqueueinfo(2): queues <paramref name="signo"/> with <paramref name="info"/> to one thread.
    /// The kernel takes si_pid and si_uid from the caller as given (only si_code is policed).
    /// glibc has no wrapper, so it goes through syscall(2) with the architecture's number.
    /// </summary>
    public static int rt_tgsigqueueinfo(int tgid, int tid, int signo, rt_siginfo* info) =>
        (int)LibC.syscall(SyscallNumbers.Current.RtTgSigQueueInfo, tgid, tid, signo, info);
}

/// <summary>struct signalfd_siginfo: 128 bytes, what a signalfd read returns per signal.</summary>
[StructLayout(LayoutKind.Sequential, Size = 128)]
internal struct signalfd_siginfo
{
    public uint ssi_signo;
    public int ssi_errno;
    public int ssi_code;
    public uint ssi_pid;
    public uint ssi_uid;
    public int ssi_fd;
    public uint ssi_tid;
    public uint ssi_band;
    public uint ssi_overrun;
    public uint ssi_trapno;
    public int ssi_status;
    public int ssi_int;
    public ulong ssi_ptr;
    public ulong ssi_utime;
    public ulong ssi_stime;
    public ulong ssi_addr;
    public ushort ssi_addr_lsb;
}

/// <summary>
/// siginfo_t (128 bytes) with the SI_QUEUE member of its union (_rt: pid, uid, sigval), as the
/// kernel lays it out on every architecture but MIPS. Not Tmds.LibC's siginfo_t: 0.5.0 swaps
/// si_errno and si_code (si_code at offset 4), so the kernel would read the wrong si_code.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
internal struct rt_siginfo
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
