using System.Text;
using Ingest.Transports.Interop;
using Tmds.Linux;

namespace Ingest.Transports.Files;

/// <summary>
/// The daemon's own small files and directories (runtime directory, TID file, state store):
/// directories are 0700 and owned by the daemon's user, files are opened O_NOFOLLOW so a
/// symlink planted by someone else is refused rather than written through.
/// </summary>
public static class PrivateFiles
{
    private const ushort OwnerOnly = 0x1C0; // 0700

    /// <summary>
    /// Creates <paramref name="path"/> 0700 when missing; refuses a directory that is a symlink,
    /// owned by another user, or writable by group or others.
    /// </summary>
    /// <exception cref="UnauthorizedAccessException">The directory exists but is not safely ours.</exception>
    /// <exception cref="IOException">It cannot be created or examined.</exception>
    public static unsafe void EnsureDirectory(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string? parent = Path.GetDirectoryName(Path.GetFullPath(path));
        if (parent is not null && !Directory.Exists(parent))
        {
            Directory.CreateDirectory(parent);
        }

        if (Sys.Mkdir(path, OwnerOnly) < 0 && Sys.LastErrno != LibC.EEXIST)
        {
            throw new ErrnoException($"mkdir({path})", Sys.LastErrno);
        }

        int fd = Sys.Open(path, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_NOFOLLOW | LibC.O_CLOEXEC, 0);
        if (fd < 0)
        {
            int errno = Sys.LastErrno;
            throw errno == LibC.ELOOP || errno == LibC.ENOTDIR
                ? new UnauthorizedAccessException($"runtime directory '{path}' is a symlink or not a directory; refusing it")
                : new ErrnoException($"open({path})", errno);
        }

        try
        {
            stat st;
            Sys.Check(LibC.fstat(fd, &st), "fstat", path);
            uint euid = LibC.geteuid();
            if (st.st_uid != euid)
            {
                throw new UnauthorizedAccessException(
                    $"directory '{path}' is owned by uid {st.st_uid}, not by this process (uid {euid}); refusing to use it (another user may have created it first)");
            }

            if ((st.st_mode & 0x12) != 0)
            {
                // Ours but too open (e.g. made by an older version under a loose umask): narrow it.
                Sys.Check(LibC.fchmod(fd, OwnerOnly), "fchmod", path);
            }
        }
        finally
        {
            LibC.close(fd);
        }
    }

    /// <summary>
    /// Replaces <paramref name="path"/> atomically with <paramref name="content"/>: a temporary
    /// file created O_EXCL|O_NOFOLLOW beside it (never through a planted symlink), then renamed
    /// over the target (rename replaces a symlink; it never writes through one).
    /// </summary>
    public static unsafe void WriteAtomic(string path, string content, UnixFileMode mode)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        byte[] bytes = Encoding.UTF8.GetBytes(content);
        for (int attempt = 0; ; attempt++)
        {
            int fd = Sys.Open(temporary, LibC.O_WRONLY | LibC.O_CREAT | LibC.O_EXCL | LibC.O_NOFOLLOW | LibC.O_CLOEXEC, (int)mode);
            if (fd < 0 && Sys.LastErrno == LibC.EEXIST && attempt == 0)
            {
                // Left by a crash, or planted: remove the name (never what it points to) and retry once.
                Sys.Unlink(temporary);
                continue;
            }

            Sys.Check(fd, "open", temporary);
            try
            {
                fixed (byte* p = bytes)
                {
                    long n = LibC.write(fd, p, bytes.Length);
                    Sys.Check(n, "write", temporary);
                    if (n != bytes.Length)
                    {
                        throw new IOException($"write({temporary}) wrote {n} of {bytes.Length} bytes");
                    }
                }
            }
            finally
            {
                LibC.close(fd);
            }

            break;
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Reads a small file without following a symlink at its last component.</summary>
    public static unsafe string ReadNoFollow(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        int fd = Sys.Check(Sys.Open(path, LibC.O_RDONLY | LibC.O_NOFOLLOW | LibC.O_CLOEXEC, 0), "open", path);
        try
        {
            byte[] buffer = new byte[4096];
            int total = 0;
            fixed (byte* p = buffer)
            {
                while (total < buffer.Length)
                {
                    long n = LibC.read(fd, p + total, buffer.Length - total);
                    if (n < 0 && Sys.LastErrno == LibC.EINTR)
                    {
                        continue;
                    }

                    Sys.Check(n, "read", path);
                    if (n == 0)
                    {
                        break;
                    }

                    total += (int)n;
                }
            }

            return Encoding.UTF8.GetString(buffer, 0, total);
        }
        finally
        {
            LibC.close(fd);
        }
    }

    /// <summary>fsync(2) on a directory: makes a rename or create inside it durable.</summary>
    public static void FsyncDirectory(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        int fd = Sys.Check(Sys.Open(directory, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_CLOEXEC, 0), "open", directory);
        try
        {
            Sys.Check(LibC.fsync(fd), "fsync", directory);
        }
        finally
        {
            LibC.close(fd);
        }
    }
}
