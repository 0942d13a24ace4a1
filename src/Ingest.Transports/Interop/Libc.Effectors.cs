using System.Runtime.InteropServices;

namespace Ingest.Transports.Interop;

/// <summary>Declarations for the effectors: component-by-component opens that never follow a symlink.</summary>
internal static unsafe partial class Libc
{
    public const int ELOOP = 40;
    public const int ENOTDIR = 20;
    public const int EISDIR = 21;

    public const int O_TRUNC = 0x200;
    public const int O_DIRECTORY = 0x10000;
    public const int O_NOFOLLOW = 0x20000;
    public const int O_PATH = 0x200000;

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int openat(int dirfd, string path, int flags, int mode);
}
