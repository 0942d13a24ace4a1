using System.Runtime.InteropServices;

namespace Ingest.Transports.Interop;

internal static unsafe partial class Libc
{
    public const uint S_IFMT = 0xF000;
    public const uint S_IFSOCK = 0xC000;

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int lstat(string path, stat_t* buf);
}

/// <summary>struct stat on x86_64 (144 bytes); only the fields callers read are named.</summary>
[StructLayout(LayoutKind.Explicit, Size = 144)]
internal struct stat_t
{
    [FieldOffset(0)]
    public ulong st_dev;

    [FieldOffset(8)]
    public ulong st_ino;

    [FieldOffset(24)]
    public uint st_mode;

    [FieldOffset(28)]
    public uint st_uid;
}
