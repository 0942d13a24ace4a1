using System.Runtime.InteropServices;

namespace Ingest.Transports.Interop;

internal static unsafe partial class Libc
{
    public static readonly nint SIG_DFL = 0;
    public static readonly nint SIG_IGN = 1;

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int sigaction(int signum, sigaction_t* act, sigaction_t* oldact);
}

/// <summary>glibc's struct sigaction on x86_64 (152 bytes): handler, 1024-bit mask, flags, restorer.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct sigaction_t
{
    public nint sa_handler;
    public sigset_t sa_mask;
    public int sa_flags;
    public nint sa_restorer;
}
