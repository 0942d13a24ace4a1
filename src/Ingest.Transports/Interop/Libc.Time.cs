using System.Runtime.InteropServices;

namespace Ingest.Transports.Interop;

internal static unsafe partial class Libc
{
    [LibraryImport(Lib, SetLastError = true)]
    public static partial int nanosleep(timespec* request, timespec* remaining);

    /// <summary>Sleeps with microsecond resolution (Thread.Sleep rounds to milliseconds).</summary>
    public static void Sleep(TimeSpan duration)
    {
        var request = new timespec { tv_sec = (long)duration.TotalSeconds, tv_nsec = (duration.Ticks % TimeSpan.TicksPerSecond) * TimeSpan.NanosecondsPerTick };
        nanosleep(&request, null);
    }
}
