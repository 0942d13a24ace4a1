using Ingest.Transports.Interop;

namespace Ingest.Transports.Events;

/// <summary>Sets the nice value of the calling thread alone (Linux: nice is per thread).</summary>
internal static unsafe class ThreadNice
{
    /// <summary>
    /// Sets the calling thread's nice value; returns null, or the refused call with its errno
    /// (a negative value needs CAP_SYS_NICE). The thread is first marked SCHED_RESET_ON_FORK:
    /// a thread it creates starts at nice 0 instead of inheriting the boost. Without that, a
    /// thread-pool worker that .NET happens to create from a boosted thread (it adds workers on
    /// the thread that queues the work) would run boosted for the rest of the process.
    /// </summary>
    public static ErrnoException? TrySetCurrent(int nice)
    {
        var tid = Sys.gettid();
        var param = 0; // struct sched_param { int sched_priority; }: 0 for SCHED_OTHER
        if (Sys.sched_setscheduler(tid, Sys.SCHED_OTHER | Sys.SCHED_RESET_ON_FORK, &param) < 0)
        {
            return new ErrnoException("sched_setscheduler(SCHED_RESET_ON_FORK)", Sys.LastErrno);
        }

        return Sys.setpriority(Sys.PRIO_PROCESS, (uint)tid, nice) < 0 ? new ErrnoException("setpriority", Sys.LastErrno) : null;
    }
}
