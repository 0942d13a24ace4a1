using System.Threading.Channels;

namespace Ingest.Pipeline;

/// <summary>
/// Drains the sink edge into the publisher. When the producer's own buffer is full it waits:
/// the bounded sink edge behind it is where the when-full policy applies.
/// </summary>
internal sealed class RecordSender(ChannelReader<OutgoingRecord> input, IRecordPublisher publisher)
{
    public async Task RunAsync(CancellationToken abort)
    {
        while (await input.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            while (input.TryRead(out var record))
            {
                record.MarkPublished();
                while (!publisher.TryPublish(record))
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
}
