namespace Ingest.Transports.Interop;

internal static partial class Libc
{
    /// <summary>getsockopt(SOL_SOCKET, SO_MEMINFO): u32[SK_MEMINFO_VARS] of the socket's memory state.</summary>
    public const int SO_MEMINFO = 55;

    /// <summary>Index of sk_drops in the SO_MEMINFO array: datagrams the socket dropped so far.</summary>
    public const int SK_MEMINFO_DROPS = 8;

    /// <summary>Number of u32 slots SO_MEMINFO fills (SK_MEMINFO_VARS in linux/sock_diag.h).</summary>
    public const int SK_MEMINFO_VARS = 9;
}
