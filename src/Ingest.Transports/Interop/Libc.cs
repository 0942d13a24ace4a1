using System.Runtime.InteropServices;

namespace Ingest.Transports.Interop;

/// <summary>
/// Exact libc declarations for the system calls the transports use (Tmds.LibC style: thin, no
/// policy). Every call sets errno; wrappers turn a failure into <see cref="ErrnoException"/>.
/// Concern-specific declarations live beside this file as <c>Libc.&lt;Concern&gt;.cs</c>.
/// </summary>
internal static unsafe partial class Libc
{
    private const string Lib = "libc";

    // errno values used by callers
    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EACCES = 13;
    public const int EFAULT = 14;
    public const int EINVAL = 22;
    public const int ENOTTY = 25;
    public const int ENOBUFS = 105;
    public const int ETIMEDOUT = 110;
    public const int ECONNREFUSED = 111;
    public const int ENOENT = 2;
    public const int EPERM = 1;
    public const int EMSGSIZE = 90;

    // open(2) flags
    public const int O_RDONLY = 0;
    public const int O_WRONLY = 1;
    public const int O_RDWR = 2;
    public const int O_NONBLOCK = 0x800;
    public const int O_CLOEXEC = 0x80000;

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags, int mode);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial nint read(int fd, byte* buf, nuint count);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial nint write(int fd, byte* buf, nuint count);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int ioctl(int fd, nuint request, void* arg);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int ioctl(int fd, nuint request, nint arg);

    [LibraryImport(Lib)]
    public static partial int gettid();

    [LibraryImport(Lib)]
    public static partial uint geteuid();

    /// <summary>Throws <see cref="ErrnoException"/> when <paramref name="result"/> is negative.</summary>
    public static int Check(int result, string call)
    {
        if (result < 0)
        {
            throw new ErrnoException(call, Marshal.GetLastPInvokeError());
        }

        return result;
    }

    /// <inheritdoc cref="Check(int, string)"/>
    public static nint Check(nint result, string call)
    {
        if (result < 0)
        {
            throw new ErrnoException(call, Marshal.GetLastPInvokeError());
        }

        return result;
    }

    /// <summary>
    /// Like <see cref="Check(int, string)"/>, but the call's name is formatted as
    /// <c>call(detail)</c> only on failure, after errno is captured: formatting first (an
    /// IPEndPoint, say) may run interop that overwrites the saved errno.
    /// </summary>
    public static int Check<T>(int result, string call, T detail)
    {
        if (result < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new ErrnoException($"{call}({detail})", errno);
        }

        return result;
    }

    /// <inheritdoc cref="Check{T}(int, string, T)"/>
    public static nint Check<T>(nint result, string call, T detail)
    {
        if (result < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new ErrnoException($"{call}({detail})", errno);
        }

        return result;
    }

    public static int LastErrno => Marshal.GetLastPInvokeError();
}
