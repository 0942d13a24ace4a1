using Ingest.Sinks.Kafka;

namespace Ingest.Commands;

/// <summary>Turns a delivery report into an awaitable outcome (commands are few: one task each is fine).</summary>
internal sealed class DeliveryWaiter : IDeliveryHandler
{
    public static readonly DeliveryWaiter Instance = new();

    public static TaskCompletionSource<DeliveryOutcome> NewState() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void OnDelivery(object? state, DeliveryOutcome outcome) => ((TaskCompletionSource<DeliveryOutcome>)state!).TrySetResult(outcome);

    /// <summary>Produces one record and waits for its delivery report.</summary>
    public static async Task<DeliveryOutcome> ProduceAsync(KafkaRecordSink sink, string topic, byte[] key, byte[] value, CancellationToken cancellationToken)
    {
        var done = NewState();
        while (!sink.TryProduce(topic, key, value, [], Instance, done))
        {
            await sink.WaitForSpaceAsync(cancellationToken).ConfigureAwait(false);
        }

        return await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }
}
