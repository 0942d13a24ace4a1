using System.Runtime.InteropServices;
using System.Text;
using Tmds.Linux;

namespace Ingest.Transports.Interop;

/// <summary>
/// The Linux interop Tmds.LibC (<see cref="LibC"/>) does not declare, in its style: thin, exact
/// <c>LibraryImport</c>s, no policy. Everything Tmds.LibC declares is called from it directly.
/// One errno path: both Tmds.LibC and these declarations set the last P/Invoke error, and
/// <see cref="Check(int, string)"/> turns a failure into <see cref="ErrnoException"/>.
/// Concern-specific declarations live beside this file as <c>Sys.&lt;Concern&gt;.cs</c>.
/// </summary>
internal static unsafe partial class Sys
{
    private const string Lib = "libc";

    [LibraryImport(Lib)]
    public static partial int gettid();

    /// <summary>setpriority(2)'s <c>which</c> for one process, or on Linux one thread (a tid).</summary>
    public const int PRIO_PROCESS = 0;

    /// <summary>setpriority(2); Tmds.LibC 0.5 does not declare it.</summary>
    [LibraryImport(Lib, SetLastError = true)]
    public static partial int setpriority(int which, uint who, int prio);

    public const int SCHED_OTHER = 0;

    /// <summary>Policy flag: threads and processes this one creates do not inherit a negative nice.</summary>
    public const int SCHED_RESET_ON_FORK = 0x40000000;

    /// <summary>sched_setscheduler(2); <paramref name="param"/> is a struct sched_param (one int).</summary>
    [LibraryImport(Lib, SetLastError = true)]
    public static partial int sched_setscheduler(int pid, int policy, int* param);

    /// <summary>poll(2). Declared here because Tmds.LibC 0.5 declares it without SetLastError,
    /// which loses the errno (EINTR) its callers test.</summary>
    [LibraryImport(Lib, SetLastError = true)]
    public static partial int poll(pollfd* fds, nuint nfds, int timeout);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int nanosleep(timespec* request, timespec* remaining);

    /// <summary>posix_spawn(3): returns 0 or an errno (not -1); file actions and attributes may be null.</summary>
    [LibraryImport(Lib)]
    public static partial int posix_spawn(int* pid, byte* path, void* fileActions, void* attributes, byte** argv, byte** envp);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int waitpid(int pid, int* status, int options);

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
    public static long Check(long result, string call)
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
    public static long Check<T>(long result, string call, T detail)
    {
        if (result < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new ErrnoException($"{call}({detail})", errno);
        }

        return result;
    }

    /// <summary>The errno the last failed call left (Tmds.LibC and our declarations both save it).</summary>
    public static int LastErrno => Marshal.GetLastPInvokeError();

    /// <summary>A NUL-terminated UTF-8 copy of <paramref name="path"/> for the calls that take a C string.</summary>
    public static byte[] CString(string path)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(path) + 1];
        Encoding.UTF8.GetBytes(path, bytes);
        return bytes;
    }

    /// <summary>open(2) with a managed path.</summary>
    public static int Open(string path, int flags, int mode = 0)
    {
        fixed (byte* p = CString(path))
        {
            return LibC.open(p, flags, (ushort)mode);
        }
    }

    /// <summary>openat(2) with a managed path.</summary>
    public static int OpenAt(int dirfd, string path, int flags, int mode = 0)
    {
        fixed (byte* p = CString(path))
        {
            return LibC.openat(dirfd, p, flags, (ushort)mode);
        }
    }

    /// <summary>memfd_create(2) with a managed name.</summary>
    public static int MemfdCreate(string name, uint flags)
    {
        fixed (byte* p = CString(name))
        {
            return LibC.memfd_create(p, flags);
        }
    }

    /// <summary>mkdir(2) with a managed path.</summary>
    public static int Mkdir(string path, ushort mode)
    {
        fixed (byte* p = CString(path))
        {
            return LibC.mkdir(p, mode);
        }
    }

    /// <summary>unlink(2) with a managed path.</summary>
    public static int Unlink(string path)
    {
        fixed (byte* p = CString(path))
        {
            return LibC.unlink(p);
        }
    }

    /// <summary>lstat(2) with a managed path.</summary>
    public static int Lstat(string path, stat* buf)
    {
        fixed (byte* p = CString(path))
        {
            return LibC.lstat(p, buf);
        }
    }

    /// <summary>An eventfd is the wake-up a blocking loop polls beside its data fd, to stop promptly.
    /// This adds 1: whoever polls it wakes. Best effort (a full counter still wakes).</summary>
    public static void SignalEventFd(int fd)
    {
        ulong one = 1;
        _ = LibC.write(fd, &one, sizeof(ulong));
    }

    public static void SetSocketOption(int fd, int level, int name, int value)
    {
        Check(LibC.setsockopt(fd, level, name, &value, sizeof(int)), "setsockopt");
    }

    /// <summary>Sets SO_RCVTIMEO so blocking receives return EAGAIN and loops can see cancellation.</summary>
    public static void SetReceiveTimeout(int fd, TimeSpan timeout)
    {
        var tv = new timeval { tv_sec = (long)timeout.TotalSeconds, tv_usec = timeout.Microseconds + (timeout.Milliseconds * 1000) };
        Check(LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_RCVTIMEO, &tv, sizeof(timeval)), "setsockopt(SO_RCVTIMEO)");
    }

    /// <summary>Sleeps with microsecond resolution (Thread.Sleep rounds to milliseconds).</summary>
    public static void Sleep(TimeSpan duration)
    {
        var request = new timespec
        {
            tv_sec = (long)duration.TotalSeconds,
            tv_nsec = (long_t)((duration.Ticks % TimeSpan.TicksPerSecond) * TimeSpan.NanosecondsPerTick),
        };
        nanosleep(&request, null);
    }
}

/// <summary>struct timeval (SO_RCVTIMEO); Tmds.LibC 0.5 has no timeval.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct timeval
{
    public long tv_sec;
    public long tv_usec;
}
