using Ingest.Transports.Events;
using Ingest.Transports.Tests.Support;

namespace Ingest.Transports.Tests.Events;

/// <summary>Real threads, their nice values read back from /proc/thread-self/stat.</summary>
public class ThreadNiceTests
{
    [Fact]
    public void A_boosted_thread_is_boosted_alone_and_the_threads_it_creates_start_at_nice_0()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Assert.Skip("a negative nice needs CAP_SYS_NICE (root)");
        }

        var (refused, nice, child) = OnNewThread(() =>
        {
            var refused = ThreadNice.TrySetCurrent(-5);
            var nice = ThreadStat.CurrentNice();

            // .NET adds thread-pool workers on whichever thread queues work: one created here
            // must not inherit the boost.
            var child = OnNewThread(ThreadStat.CurrentNice);
            return (refused, nice, child);
        });
        int sibling = OnNewThread(ThreadStat.CurrentNice);

        Assert.Null(refused);
        Assert.Equal(-5, nice);
        Assert.Equal(0, child);
        Assert.Equal(0, sibling);
        Assert.Equal(0, ThreadStat.CurrentNice());
    }

    [Fact]
    public void A_lower_priority_needs_no_privilege()
    {
        var (refused, nice) = OnNewThread(() => (ThreadNice.TrySetCurrent(4), ThreadStat.CurrentNice()));
        Assert.Null(refused);
        Assert.Equal(4, nice);
    }

    private static T OnNewThread<T>(Func<T> body)
    {
        T result = default!;
        var thread = new Thread(() => result = body());
        thread.Start();
        thread.Join();
        return result;
    }
}
