using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Ingest.Transports.TestHost;

/// <summary>
/// A user process forging kingest module signals at another process's thread: ABI 1's exact shape
/// (SI_QUEUE, si_pid 0, si_uid 0), which the kernel lets through, and ABI 2's (positive si_code
/// KINGEST_SIG_CODE with KINGEST_SIG_BAND), which it must refuse with EPERM. Its own thin interop,
/// so the product's assembly exposes no way to forge.
/// </summary>
internal static partial class ForgedSignal
{
    // rt_tgsigqueueinfo's number per architecture (x86_64 syscall_64.tbl; asm-generic for arm64).
    private static readonly long SysRtTgsigqueueinfo = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 297,
        Architecture.Arm64 or Architecture.RiscV64 or Architecture.LoongArch64 => 240,
        var other => throw new PlatformNotSupportedException($"rt_tgsigqueueinfo: no number for {other}"),
    };

    private const int SiQueue = -1;
    private const int Eperm = 1;

    /// <summary>Exit code: 0 if the ABI 1 forgery was queued and the ABI 2 one refused with EPERM; else bits 1 and 2.</summary>
    public static int Run(int tgid, int tid, int signo, int value)
    {
        int result = 0;
        var info = new byte[128];
        BinaryPrimitives.WriteInt32LittleEndian(info.AsSpan(0), signo);
        BinaryPrimitives.WriteInt32LittleEndian(info.AsSpan(8), SiQueue);
        BinaryPrimitives.WriteInt32LittleEndian(info.AsSpan(16), 0); // si_pid: "the kernel"
        BinaryPrimitives.WriteUInt32LittleEndian(info.AsSpan(20), 0); // si_uid: root
        BinaryPrimitives.WriteInt32LittleEndian(info.AsSpan(24), value); // si_int
        if (Send(tgid, tid, signo, info) != 0)
        {
            Console.Error.WriteLine($"SI_QUEUE forgery not queued: errno {Marshal.GetLastPInvokeError()}");
            result |= 1;
        }

        // SIL_POLL layout: si_band (long) at 16, si_fd at 24.
        BinaryPrimitives.WriteInt32LittleEndian(info.AsSpan(8), 3);
        BinaryPrimitives.WriteInt64LittleEndian(info.AsSpan(16), 0x4b494e47);
        if (Send(tgid, tid, signo, info) == 0 || Marshal.GetLastPInvokeError() != Eperm)
        {
            Console.Error.WriteLine("positive si_code forgery was not refused with EPERM");
            result |= 2;
        }

        return result;
    }

    private static long Send(int tgid, int tid, int signo, byte[] info) => syscall(SysRtTgsigqueueinfo, tgid, tid, signo, info);

    [LibraryImport("libc", SetLastError = true)]
    private static partial long syscall(long number, long tgid, long tid, long signo, [In] byte[] info);
}
