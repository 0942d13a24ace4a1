using System.Diagnostics;
using Ingest.Commands;
using Ingest.Pipeline;

namespace Ingest.Telemetry;

/// <summary>
/// Ingest's spans (ActivitySource "Ingest"): one per command from receipt to result, and one per
/// acknowledged batch, sampled by ratio so a busy host does not export a span per record.
/// Without a listener (no OTLP endpoint) every call returns after one check.
/// </summary>
public static class IngestTracing
{
    public const string SourceName = "Ingest";
    public const string BatchSpan = "ingest.batch";
    public const string CommandSpan = "ingest.command";

    public static ActivitySource Source { get; } = new(SourceName, typeof(IngestTracing).Assembly.GetName().Version?.ToString());

    /// <summary>Records a finished span for an acknowledged batch: from hand-over to the producer to its acknowledgement.</summary>
    /// <param name="ratio">Fraction of batches that get a span (0 to 1).</param>
    public static void RecordBatch(OutgoingRecord record, long publishedTimestamp, double ratio)
    {
        if (ratio <= 0 || !Source.HasListeners() || (ratio < 1 && Random.Shared.NextDouble() >= ratio))
        {
            return;
        }

        var elapsed = publishedTimestamp != 0 ? Stopwatch.GetElapsedTime(publishedTimestamp) : TimeSpan.Zero;
        using var activity = Source.StartActivity(ActivityKind.Producer, parentContext: default, startTime: DateTimeOffset.UtcNow - elapsed, name: BatchSpan);
        if (activity is null)
        {
            return;
        }

        activity.SetTag("ingest.channel", record.Stats.Channel);
        activity.SetTag("ingest.source", record.Stats.Name);
        activity.SetTag("messaging.system", "kafka");
        activity.SetTag("messaging.destination.name", record.Topic);
        activity.SetTag("messaging.batch.message_count", record.Count);
        activity.SetTag("ingest.batch.bytes", record.Value.Length);
    }

    /// <summary>Starts the span of one command as it is read from its partition; null when nobody listens.</summary>
    public static Activity? StartCommand(int partition, long offset)
    {
        var activity = Source.StartActivity(CommandSpan, ActivityKind.Consumer);
        activity?.SetTag("messaging.kafka.partition", partition);
        activity?.SetTag("messaging.kafka.offset", offset);
        return activity;
    }

    /// <summary>Ends the command's span with its outcome; <paramref name="result"/> null = ignored (not for this host, ...).</summary>
    public static void CompleteCommand(Activity? activity, CommandResult? result, string? ignoredReason)
    {
        if (activity is null)
        {
            return;
        }

        if (result is null)
        {
            activity.SetTag("ingest.command.status", "ignored");
            activity.SetTag("ingest.command.ignored_reason", ignoredReason);
        }
        else
        {
            activity.SetTag("ingest.command.id", result.Id);
            activity.SetTag("ingest.command.op", result.Op);
            activity.SetTag("ingest.command.status", result.Status.ToWire());
            if (result.Status is not CommandStatus.Applied)
            {
                activity.SetStatus(ActivityStatusCode.Error, result.Error);
            }
        }

        activity.Stop();
    }
}
