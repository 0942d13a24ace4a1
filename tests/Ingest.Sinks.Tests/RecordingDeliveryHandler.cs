using System.Collections.Concurrent;
using Ingest.Sinks.Kafka;

namespace Ingest.Sinks.Tests;

/// <summary>Collects every delivery report with its state, counting calls per state.</summary>
internal sealed class RecordingDeliveryHandler : IDeliveryHandler
{
    private readonly ConcurrentDictionary<object, int> _callsPerState = new();
    private int _calls;

    public ConcurrentQueue<(object? State, DeliveryOutcome Outcome)> Reports { get; } = new();

    public int Calls => Volatile.Read(ref _calls);

    public IReadOnlyDictionary<object, int> CallsPerState => _callsPerState;

    public void OnDelivery(object? state, DeliveryOutcome outcome)
    {
        Reports.Enqueue((state, outcome));
        if (state is not null)
        {
            _callsPerState.AddOrUpdate(state, 1, static (_, n) => n + 1);
        }

        Interlocked.Increment(ref _calls);
    }
}
