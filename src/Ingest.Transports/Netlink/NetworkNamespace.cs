using Ingest.Transports.Interop;

namespace Ingest.Transports.Netlink;

/// <summary>
/// Runs a function in another network namespace. A socket keeps the namespace it was created
/// in, so opening it there is enough; the work happens on a dedicated thread that enters the
/// namespace with setns(2) and returns to its own before it ends, leaving every other thread of
/// the process where it was.
/// </summary>
public static class NetworkNamespace
{
    /// <summary>The directory where `ip netns add NAME` pins namespaces.</summary>
    public const string NamedDirectory = "/var/run/netns";

    public static T Run<T>(string path, Func<T> function)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(function);
        T result = default!;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = RunHere(path, function);
            }
            catch (Exception e)
            {
                error = e;
            }
        })
        {
            IsBackground = true,
            Name = "netns",
        };
        thread.Start();
        thread.Join();
        if (error is not null)
        {
            throw error;
        }

        return result;
    }

    private static T RunHere<T>(string path, Func<T> function)
    {
        var own = Libc.Check(Libc.open("/proc/thread-self/ns/net", Libc.O_RDONLY | Libc.O_CLOEXEC, 0), "open(/proc/thread-self/ns/net)");
        try
        {
            var target = Libc.open(path, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
            if (target < 0)
            {
                var errno = Libc.LastErrno;
                throw new ErrnoException($"open({path})", errno);
            }

            try
            {
                Libc.Check(Libc.setns(target, Libc.CLONE_NEWNET), "setns(CLONE_NEWNET)");
            }
            finally
            {
                Libc.close(target);
            }

            try
            {
                return function();
            }
            finally
            {
                Libc.Check(Libc.setns(own, Libc.CLONE_NEWNET), "setns(CLONE_NEWNET) back");
            }
        }
        finally
        {
            Libc.close(own);
        }
    }
}
