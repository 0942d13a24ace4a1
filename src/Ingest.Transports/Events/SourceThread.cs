namespace Ingest.Transports.Events;

/// <summary>
/// Runs a source's blocking receive loop on its own background thread (system calls that block
/// would starve the thread pool) and reports how it ended as a task.
/// </summary>
internal static class SourceThread
{
    /// <param name="name">Thread name, as seen in /proc/PID/task/*/comm and profilers.</param>
    /// <param name="body">The loop; returns when cancelled, throws when the source fails.</param>
    /// <param name="onError">Called with the failure before the task faults (e.g. to fail a readiness task too).</param>
    /// <param name="onExit">Called last, whatever happened (releases what the loop owned).</param>
    public static Task Start(string name, Action body, Action<Exception>? onError = null, Action? onExit = null)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                body();
                done.SetResult();
            }
            catch (Exception e)
            {
                onError?.Invoke(e);
                done.SetException(e);
            }
            finally
            {
                onExit?.Invoke();
            }
        })
        {
            IsBackground = true,
            Name = name,
        };
        thread.Start();
        return done.Task;
    }
}
