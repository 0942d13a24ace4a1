using Ingest.Transports.Interop;
using Tmds.Linux;

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
        var own = Sys.Check(Sys.Open("/proc/thread-self/ns/net", LibC.O_RDONLY | LibC.O_CLOEXEC, 0), "open(/proc/thread-self/ns/net)");
        try
        {
            var target = Sys.Open(path, LibC.O_RDONLY | LibC.O_CLOEXEC, 0);
            if (target < 0)
            {
                var errno = Sys.LastErrno;
                throw new ErrnoException($"open({path})", errno);
            }

            try
            {
                Sys.Check(LibC.setns(target, LibC.CLONE_NEWNET), "setns(CLONE_NEWNET)");
            }
            finally
            {
                LibC.close(target);
            }

            try
            {
                return function();
            }
            finally
            {
                Sys.Check(LibC.setns(own, LibC.CLONE_NEWNET), "setns(CLONE_NEWNET) back");
            }
        }
        finally
        {
            LibC.close(own);
        }
    }
}
