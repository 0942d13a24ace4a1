using Ingest.Transports.Interop;

namespace Ingest.Transports.Events;

/// <summary>Sets the nice value of the calling thread alone (Linux: nice is per thread).</summary>
internal static unsafe class ThreadNice
{
    /// <summary>
    /// Sets the calling thread's nice value; returns 0, or the errno when the kernel refused
    /// (a negative value needs CAP_SYS_NICE). The thread is first marked SCHED_RESET_ON_FORK:
    /// a thread it creates starts at nice 0 instead of inheriting the boost. Without that, a
    /// thread-pool worker that .NET happens to create from a boosted thread (it adds workers on
    /// the thread that queues the work) would run boosted for the rest of the process.
    /// </summary>
    public static int TrySetCurrent(int nice)
    {
        var tid = (uint)Sys.gettid();
        var param = 0; // struct sched_param { int sched_priority; }: 0 for SCHED_OTHER
        if (Sys.sched_setscheduler((int)tid, Sys.SCHED_OTHER | Sys.SCHED_RESET_ON_FORK, &param) < 0)
        {
            return Sys.LastErrno;
        }

        return Sys.setpriority(Sys.PRIO_PROCESS, tid, nice) == 0 ? 0 : Sys.LastErrno;
    }

    /// <summary>The calling thread's nice value, from /proc/thread-self/stat (field 19).</summary>
    public static int Current()
    {
        var stat = File.ReadAllText("/proc/thread-self/stat");

        // The command name (field 2) may hold spaces and parentheses: count fields after its ')'.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[19 - 3], System.Globalization.CultureInfo.InvariantCulture);
    }
}
