using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Ingest.Transports.Interop;

internal static unsafe partial class Sys
{
    /// <summary>Index of sk_drops in the SO_MEMINFO array: datagrams the socket dropped so far.</summary>
    public const int SK_MEMINFO_DROPS = 8;

    /// <summary>Number of u32 slots SO_MEMINFO fills (SK_MEMINFO_VARS in linux/sock_diag.h).</summary>
    public const int SK_MEMINFO_VARS = 9;

    /// <summary>recvmmsg(2): Tmds.LibC 0.5 declares mmsghdr but not the call.</summary>
    [LibraryImport(Lib, SetLastError = true)]
    public static partial int recvmmsg(int fd, mmsghdr* msgvec, uint vlen, int flags, timespec* timeout);
}
