using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Ingest.Pipeline;

/// <summary>
/// Drains the sink edge into the publisher. When the producer's own buffer is full it waits:
/// the bounded sink edge behind it is where the when-full policy applies. A record the producer
/// refuses outright (larger than message.max.bytes, say) is counted as delivery_failed and logged;
/// the sender goes on with the next one.
/// </summary>
internal sealed class RecordSender(ChannelReader<OutgoingRecord> input, IRecordPublisher publisher, ILogger logger)
{
    public async Task RunAsync(CancellationToken abort)
    {
        while (await input.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            while (input.TryRead(out var record))
            {
                record.MarkPublished();
                while (!TryPublish(record))
                {
                    if (abort.IsCancellationRequested)
                    {
                        record.Failed(DropReason.Shutdown);
                        break;
                    }

                    try
                    {
                        await publisher.WaitForSpaceAsync(abort).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }
            }
        }
    }

    /// <summary>True when the record is handed over or finished with; false when the producer is full.</summary>
    private bool TryPublish(OutgoingRecord record)
    {
        try
        {
            return publisher.TryPublish(record);
        }
        catch (Exception e)
        {
            record.Failed(DropReason.DeliveryFailed);
            logger.LogError("{Channel}/{Source}: the producer refused a record of {Count} events ({Bytes} bytes), counted as delivery_failed: {Message}", record.Stats.Channel, record.Stats.Name, record.Count, record.Value.Length, e.Message);
            return true;
        }
    }
}
