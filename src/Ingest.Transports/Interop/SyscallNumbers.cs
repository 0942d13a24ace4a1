using System.Runtime.InteropServices;

namespace Ingest.Transports.Interop;

/// <summary>
/// Numbers of the system calls glibc has no wrapper for, per architecture (they differ):
/// x86_64 arch/x86/entry/syscalls/syscall_64.tbl; arm64, riscv64 and loongarch64 share
/// include/uapi/asm-generic/unistd.h; the 32-bit tables for i386, arm, s390x and ppc64le.
/// </summary>
internal sealed record SyscallNumbers(int RtTgSigQueueInfo)
{
    public static SyscallNumbers X64 { get; } = new(RtTgSigQueueInfo: 297);

    public static SyscallNumbers Generic { get; } = new(RtTgSigQueueInfo: 240);

    /// <summary>The running process's architecture's numbers.</summary>
    public static SyscallNumbers Current { get; } = For(RuntimeInformation.ProcessArchitecture);

    public static SyscallNumbers For(Architecture architecture) => architecture switch
    {
        Architecture.X64 => X64,
        Architecture.Arm64 or Architecture.RiscV64 or Architecture.LoongArch64 => Generic,
        Architecture.X86 => new(RtTgSigQueueInfo: 335),
        Architecture.Arm => new(RtTgSigQueueInfo: 363),
        Architecture.S390x => new(RtTgSigQueueInfo: 330),
        Architecture.Ppc64le => new(RtTgSigQueueInfo: 322),
        _ => throw new PlatformNotSupportedException($"no system call numbers known for {architecture}"),
    };
}
