using System.Runtime.InteropServices;

namespace Ingest.Transports.Interop;

/// <summary>Declarations for private runtime/state files: no-follow creates, fsync of directories, owner checks.</summary>
internal static unsafe partial class Libc
{
    public const int EEXIST = 17;

    public const int O_CREAT = 0x40;
    public const int O_EXCL = 0x80;

    public const uint S_IFDIR = 0x4000;

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int fsync(int fd);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int fstat(int fd, stat_t* buf);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mkdir(string path, uint mode);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int unlink(string path);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int fchmod(int fd, uint mode);
}
