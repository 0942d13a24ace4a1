using System.Runtime.InteropServices;

namespace Ingest.Transports.Interop;

internal static unsafe partial class Libc
{
    public const int SIG_BLOCK = 0;
    public const int SIG_UNBLOCK = 1;
    public const int SIG_SETMASK = 2;
    public const int SFD_NONBLOCK = 0x800;
    public const int SFD_CLOEXEC = 0x80000;
    public const int SI_QUEUE = -1;
    public const int SI_USER = 0;
    public const int SI_TKILL = -6;

    /// <summary>
    /// rt_tgsigqueueinfo's syscall number, which differs per architecture (glibc has no wrapper):
    /// x86_64 arch/x86/entry/syscalls/syscall_64.tbl; arm64, riscv64 and loongarch64 share
    /// include/uapi/asm-generic/unistd.h.
    /// </summary>
    public static long SYS_rt_tgsigqueueinfo { get; } = RtTgSigQueueInfoNumber(RuntimeInformation.ProcessArchitecture);

    internal static long RtTgSigQueueInfoNumber(Architecture architecture) => architecture switch
    {
        Architecture.X64 => 297,
        Architecture.Arm64 or Architecture.RiscV64 or Architecture.LoongArch64 => 240,
        Architecture.X86 => 335,
        Architecture.Arm => 363,
        Architecture.S390x => 330,
        Architecture.Ppc64le => 322,
        _ => throw new PlatformNotSupportedException($"rt_tgsigqueueinfo: no syscall number known for {architecture}"),
    };

    /// <summary>SIGRTMIN as glibc reports it (34 on glibc: two are reserved for NPTL).</summary>
    [LibraryImport(Lib, EntryPoint = "__libc_current_sigrtmin")]
    public static partial int SigRtMin();

    [LibraryImport(Lib, EntryPoint = "__libc_current_sigrtmax")]
    public static partial int SigRtMax();

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int pthread_sigmask(int how, sigset_t* set, sigset_t* oldset);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int signalfd(int fd, sigset_t* mask, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial long syscall(long number, long a1, long a2, long a3, long a4);
}

/// <summary>The kernel's 64-bit signal set as glibc lays it out (1024 bits; the kernel reads 8 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct sigset_t
{
    public fixed ulong val[16];

    public void Add(int signo) => val[(signo - 1) / 64] |= 1UL << ((signo - 1) % 64);
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
