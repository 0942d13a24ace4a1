using Ingest.Daemon;

namespace Ingest.Bench.Support;

/// <summary>An <see cref="IngestDaemon"/> run inside the bench process (the ring benches add their own memory ring as a source).</summary>
internal static class InProcessDaemon
{
    /// <summary>Starts <paramref name="daemon"/> on the thread pool and returns its run once it is running.</summary>
    /// <exception cref="InvalidOperationException">The daemon stopped before it ran.</exception>
    public static async Task<Task<int>> StartAsync(IngestDaemon daemon, CancellationToken stop, CancellationToken cancellationToken)
    {
        var running = Task.Run(() => daemon.RunAsync(stop), CancellationToken.None);
        while (daemon.Snapshot is null)
        {
            if (running.IsCompleted)
            {
                await running.ConfigureAwait(false);
                throw new InvalidOperationException("the daemon stopped before it ran");
            }

            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }

        return running;
    }
}
