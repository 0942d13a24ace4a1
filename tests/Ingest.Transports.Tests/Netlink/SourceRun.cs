using Ingest.Transports.Netlink;
using Ingest.Transports.Tests.Fakes;

namespace Ingest.Transports.Tests.Netlink;

/// <summary>A running netlink source with a recording writer; disposing cancels and awaits it.</summary>
internal sealed class SourceRun<TSource> : IAsyncDisposable
    where TSource : NetlinkSource
{
    private readonly CancellationTokenSource _cts = new();
    private readonly Task _task;

    public SourceRun(TSource source)
    {
        Source = source;
        _task = source.RunAsync(Writer, _cts.Token);
    }

    public TSource Source { get; }

    public RecordingEventWriter Writer { get; } = new();

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        await _task.WaitAsync(TimeSpan.FromSeconds(10));
        _cts.Dispose();
    }
}

internal static class SourceRun
{
    public static async Task<SourceRun<TSource>> StartAsync<TSource>(TSource source)
        where TSource : NetlinkSource
    {
        var run = new SourceRun<TSource>(source);
        await source.Ready.WaitAsync(TimeSpan.FromSeconds(10));
        return run;
    }
}
