using Ingest.Transports.Events;

namespace Ingest.Tests.Pipeline;

/// <summary>A source driven by the test: each call to <see cref="Emit"/> writes events and flushes.</summary>
internal class ScriptedSource(string channel = "test", string name = "scripted") : IEventSource
{
    public static readonly EventName Type = new("tick");
    public static readonly EventName N = new("n");

    private readonly System.Threading.Channels.Channel<Action<EventWriter>> _work = System.Threading.Channels.Channel.CreateUnbounded<Action<EventWriter>>();

    public string Channel { get; } = channel;

    public string Name { get; } = name;

    public CounterSet Counters { get; } = new();

    /// <summary>Queues an action on the source's thread, in order with the emits.</summary>
    public void Step(Action<EventWriter> step) => _work.Writer.TryWrite(step);

    /// <summary>Queues <paramref name="count"/> events n=start.. followed by one flush (with a checkpoint if given).</summary>
    public void Emit(int count, int start = 0, long checkpoint = -1) => _work.Writer.TryWrite(w =>
    {
        for (var i = 0; i < count; i++)
        {
            w.BeginEvent(Type, 1_000 + start + i, 1);
            w.Write(N, (long)(start + i));
            w.EndEvent();
        }

        w.Flush(checkpoint);
    });

    /// <summary>Queues any writing step (the step flushes if it wants its events sent).</summary>
    public void Script(Action<EventWriter> step) => _work.Writer.TryWrite(step);

    public async Task RunAsync(EventWriter writer, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var step in _work.Reader.ReadAllAsync(cancellationToken))
            {
                step(writer);
            }
        }
        catch (OperationCanceledException)
        {
            // Drain what was queued before the stop: a real source flushes its last burst too.
            while (_work.Reader.TryRead(out var step))
            {
                step(writer);
            }
        }
    }
}

/// <summary>A scripted source that says it is periodic (<see cref="IPeriodicSource"/>), as the /proc scrapes and the heartbeat are.</summary>
internal sealed class PeriodicScriptedSource() : ScriptedSource("test", "periodic"), IPeriodicSource;

internal sealed class AcknowledgingScriptedSource : ScriptedSource, IAcknowledgingSource
{
    private int _rewindRequests;
    private int _generation;

    public List<long> Acknowledged { get; } = [];

    public int RewindRequests => Volatile.Read(ref _rewindRequests);

    public int Generation => Volatile.Read(ref _generation);

    public void OnDelivered(long checkpoint)
    {
        lock (Acknowledged)
        {
            Acknowledged.Add(checkpoint);
        }
    }

    public void Rewind() => Interlocked.Increment(ref _rewindRequests);

    /// <summary>Queues the rewind on the source's thread, as the ring does before its next read.</summary>
    public void CompleteRewind() => Step(_ => Volatile.Write(ref _generation, RewindRequests));
}
