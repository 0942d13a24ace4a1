using System.Runtime.InteropServices;

namespace Ingest.Transports.Interop;

internal static unsafe partial class Libc
{
    public const short POLLIN = 0x001;
    public const short POLLOUT = 0x004;
    public const short POLLERR = 0x008;
    public const short POLLHUP = 0x010;

    public const int EFD_CLOEXEC = 0x80000;
    public const int EFD_NONBLOCK = 0x800;

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int poll(pollfd* fds, nuint nfds, int timeout);

    /// <summary>An eventfd is the wake-up a blocking loop polls beside its data fd, to stop promptly.</summary>
    [LibraryImport(Lib, SetLastError = true)]
    public static partial int eventfd(uint initval, int flags);

    /// <summary>Adds 1 to an eventfd: whoever polls it wakes. Best effort (a full counter still wakes).</summary>
    public static void SignalEventFd(int fd)
    {
        ulong one = 1;
        _ = write(fd, (byte*)&one, sizeof(ulong));
    }
}

[StructLayout(LayoutKind.Sequential)]
internal struct pollfd
{
    public int fd;
    public short events;
    public short revents;
}
