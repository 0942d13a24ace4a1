using Ingest.Transports.Interop;
using Tmds.Linux;

namespace Ingest.Transports.Upcall;

/// <summary>
/// A listening AF_UNIX SOCK_SEQPACKET socket at a path. It is bound under a temporary name, given
/// its mode, then renamed over the path, so no one can connect while the mode is still the umask's
/// and a stale socket from a dead daemon is replaced in one step. A path where a live daemon still
/// accepts is refused rather than stolen.
/// </summary>
internal sealed class SeqpacketListener : IDisposable
{
    private const int Backlog = 128;

    private readonly ulong _inode;

    private SeqpacketListener(int fd, string path)
    {
        Fd = fd;
        Path = path;
        _inode = Inode(path);
    }

    public int Fd { get; private set; }

    public string Path { get; }

    public static unsafe SeqpacketListener Create(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("Unix socket upcalls need Linux");
        }

        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }

        RefuseIfLive(path);
        var temporary = System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        File.Delete(temporary);
        var fd = Sys.Check(LibC.socket(LibC.AF_UNIX, LibC.SOCK_SEQPACKET | LibC.SOCK_CLOEXEC | LibC.SOCK_NONBLOCK, 0), "socket(AF_UNIX, SOCK_SEQPACKET)");
        try
        {
            var address = UnixSocketAddress.Create(temporary);
            Sys.Check(LibC.bind(fd, (sockaddr*)&address, (uint)sizeof(sockaddr_un)), "bind", temporary);
            File.SetUnixFileMode(temporary, mode);
            Sys.Check(LibC.listen(fd, Backlog), "listen");
            File.Move(temporary, path, overwrite: true);
            return new SeqpacketListener(fd, path);
        }
        catch
        {
            LibC.close(fd);
            File.Delete(temporary);
            throw;
        }
    }

    public void Dispose()
    {
        if (Fd >= 0)
        {
            LibC.close(Fd);
            Fd = -1;

            // A newer daemon may have replaced the socket since: remove only our own.
            if (_inode != 0 && Inode(Path) == _inode)
            {
                File.Delete(Path);
            }
        }
    }

    private static unsafe void RefuseIfLive(string path)
    {
        var status = default(stat);
        if (Sys.Lstat(path, &status) < 0)
        {
            if (Sys.LastErrno == LibC.ENOENT)
            {
                return;
            }

            var errno = Sys.LastErrno;

            throw new ErrnoException($"lstat({path})", errno);
        }

        if ((status.st_mode & LibC.S_IFMT) != LibC.S_IFSOCK)
        {
            throw new IOException($"upcall socket path {path} exists and is not a socket; refusing to replace it");
        }

        var probe = Sys.Check(LibC.socket(LibC.AF_UNIX, LibC.SOCK_SEQPACKET | LibC.SOCK_CLOEXEC | LibC.SOCK_NONBLOCK, 0), "socket(AF_UNIX)");
        try
        {
            var address = UnixSocketAddress.Create(path);
            if (LibC.connect(probe, (sockaddr*)&address, (uint)sizeof(sockaddr_un)) == 0 || Sys.LastErrno == LibC.EAGAIN)
            {
                throw new IOException($"another process is accepting on {path}; is a daemon already running?");
            }

            // ECONNREFUSED: a dead daemon's socket, which the rename replaces.
        }
        finally
        {
            LibC.close(probe);
        }
    }

    private static unsafe ulong Inode(string path)
    {
        var status = default(stat);
        return Sys.Lstat(path, &status) == 0 ? status.st_ino : 0;
    }
}
