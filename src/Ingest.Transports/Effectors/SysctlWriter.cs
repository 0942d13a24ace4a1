using System.Text;
using Ingest.Transports.Interop;
using Tmds.Linux;

namespace Ingest.Transports.Effectors;

/// <summary>
/// Writes sysctl values under a root directory (production: /proc/sys): reads the old value,
/// writes the new one, reads it back. Every path component is opened with O_NOFOLLOW relative
/// to its parent, so neither a ".." (refused by <see cref="SysctlKey"/>) nor a symlink anywhere
/// below the root can lead outside it.
/// </summary>
public sealed class SysctlWriter
{
    /// <summary>The kernel's sysctl tree.</summary>
    public const string ProcSysRoot = "/proc/sys";

    /// <summary>A sysctl value is at most one page; longer input is refused before any write.</summary>
    public const int MaxValueBytes = 4096;

    private readonly string _root;

    /// <param name="root">Directory the keys resolve under; tests pass a fake tree.</param>
    public SysctlWriter(string root = ProcSysRoot)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        _root = root;
    }

    public string Root => _root;

    /// <summary>Reads the current value of <paramref name="key"/>.</summary>
    /// <exception cref="ErrnoException">A component is missing, a symlink, or not readable.</exception>
    public string Read(SysctlKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return ReadValue(key);
    }

    /// <summary>Writes <paramref name="value"/> to <paramref name="key"/> and reports before/after.</summary>
    /// <exception cref="ArgumentException">The value is too long or contains NUL or a newline.</exception>
    /// <exception cref="ErrnoException">The open, read or write failed (the kernel's errno is kept).</exception>
    public SysctlWriteResult Write(SysctlKey key, string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        if (bytes.Length > MaxValueBytes)
        {
            throw new ArgumentException($"value is longer than {MaxValueBytes} bytes", nameof(value));
        }

        if (value.Contains('\0', StringComparison.Ordinal) || value.Contains('\n', StringComparison.Ordinal))
        {
            throw new ArgumentException("value contains NUL or a newline", nameof(value));
        }

        string before = ReadValue(key);
        WriteValue(key, bytes);
        string after = ReadValue(key);
        return new SysctlWriteResult(before, after);
    }

    private unsafe string ReadValue(SysctlKey key)
    {
        int fd = OpenLeaf(key, LibC.O_RDONLY);
        try
        {
            byte[] buffer = new byte[MaxValueBytes + 1];
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

                    Sys.Check(n, "read", key.RelativePath);
                    if (n == 0)
                    {
                        break;
                    }

                    total += (int)n;
                }
            }

            return Encoding.UTF8.GetString(buffer, 0, total).TrimEnd('\n');
        }
        finally
        {
            LibC.close(fd);
        }
    }

    private unsafe void WriteValue(SysctlKey key, byte[] bytes)
    {
        // O_TRUNC: a fake tree is made of regular files; procfs ignores the truncation.
        int fd = OpenLeaf(key, LibC.O_WRONLY | LibC.O_TRUNC);
        try
        {
            fixed (byte* p = bytes)
            {
                // One write(2): the kernel parses a sysctl value from a single write.
                long n;
                do
                {
                    n = LibC.write(fd, p, bytes.Length);
                }
                while (n < 0 && Sys.LastErrno == LibC.EINTR);
                Sys.Check(n, "write", key.RelativePath);
                if (n != bytes.Length)
                {
                    throw new IOException($"write({key.RelativePath}) wrote {n} of {bytes.Length} bytes");
                }
            }
        }
        finally
        {
            LibC.close(fd);
        }
    }

    /// <summary>Opens the root, then each directory with O_NOFOLLOW, then the leaf with O_NOFOLLOW.</summary>
    private int OpenLeaf(SysctlKey key, int flags)
    {
        int dir = Sys.Check(Sys.Open(_root, LibC.O_PATH | LibC.O_DIRECTORY | LibC.O_CLOEXEC, 0), "open", _root);
        try
        {
            IReadOnlyList<string> segments = key.Segments;
            for (int i = 0; i < segments.Count - 1; i++)
            {
                int next = Sys.OpenAt(dir, segments[i], LibC.O_PATH | LibC.O_DIRECTORY | LibC.O_NOFOLLOW | LibC.O_CLOEXEC, 0);
                Sys.Check(next, "openat", Prefix(segments, i));
                LibC.close(dir);
                dir = next;
            }

            int fd = Sys.OpenAt(dir, segments[^1], flags | LibC.O_NOFOLLOW | LibC.O_CLOEXEC, 0);
            return Sys.Check(fd, "openat", key.RelativePath);
        }
        finally
        {
            LibC.close(dir);
        }
    }

    private static string Prefix(IReadOnlyList<string> segments, int last)
    {
        var builder = new StringBuilder();
        for (int i = 0; i <= last; i++)
        {
            if (i > 0)
            {
                builder.Append('/');
            }

            builder.Append(segments[i]);
        }

        return builder.ToString();
    }
}
