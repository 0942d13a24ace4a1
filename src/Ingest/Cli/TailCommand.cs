using System.CommandLine;
using System.Diagnostics;
using Ingest.Encoding;
using Ingest.Encoding.MessagePack;
using Ingest.Sinks.Kafka;

namespace Ingest.Cli;

internal static class TailCommand
{
    public static Command Create()
    {
        var bootstrap = new Option<string?>("--bootstrap", "-b") { Description = "Kafka bootstrap servers (default: INGEST_KAFKA__BOOTSTRAP)." };
        var topic = new Option<string>("--topic", "-t") { Description = "Topic to read.", DefaultValueFactory = _ => "kernel.events" };
        var fromBeginning = new Option<bool>("--from-beginning") { Description = "Start at the oldest record instead of the newest." };
        var max = new Option<int?>("--max", "-n") { Description = "Exit 0 after printing this many events." };
        var timeout = new Option<double?>("--timeout") { Description = "Give up after this many seconds without a new event, counted once the topic's partitions are assigned (exit 1 if --max was not reached)." };
        var channel = new Option<string?>("--channel") { Description = "Only events of this channel (udp, proc, netlink, ...)." };
        var command = new Command("tail", "Print events from Kafka as one JSON object per line: host, channel, source, seq, ts, type, data.")
        {
            bootstrap, topic, fromBeginning, max, timeout, channel,
        };
        command.SetAction(async (parse, _) =>
        {
            var servers = parse.GetValue(bootstrap) ?? Environment.GetEnvironmentVariable("INGEST_KAFKA__BOOTSTRAP");
            if (string.IsNullOrWhiteSpace(servers))
            {
                await Console.Error.WriteLineAsync("ingest tail: --bootstrap is required (the line bootstrap=... printed by `ingest run` or `ingest broker`)");
                return 2;
            }

            var limit = parse.GetValue(max);
            if (limit is <= 0)
            {
                await Console.Error.WriteLineAsync("ingest tail: --max must be positive");
                return 2;
            }

            var silence = parse.GetValue(timeout) is { } t ? TimeSpan.FromSeconds(t) : Timeout.InfiniteTimeSpan;
            var only = parse.GetValue(channel);
            using var shutdown = new Shutdown();
            using var reader = new KafkaTopicReader(servers, parse.GetValue(topic)!, parse.GetValue(fromBeginning));
            var printed = 0;
            var bad = 0;
            var waiting = false;
            var lastEvent = Stopwatch.StartNew();
            var stdout = Console.Out;
            while (!shutdown.Token.IsCancellationRequested)
            {
                KafkaRecord? record;
                try
                {
                    record = reader.Read(TimeSpan.FromMilliseconds(200));
                }
                catch (Confluent.Kafka.ConsumeException e) when (!e.Error.IsFatal)
                {
                    // Typically the topic does not exist yet: the daemon creates it with its first record.
                    if (!waiting)
                    {
                        waiting = true;
                        await Console.Error.WriteLineAsync($"ingest tail: {e.Error.Reason}; waiting");
                    }

                    record = null;
                }

                if (record is null)
                {
                    if (!reader.HasAssignment)
                    {
                        lastEvent.Restart();
                    }

                    if (silence != Timeout.InfiniteTimeSpan && lastEvent.Elapsed >= silence)
                    {
                        break;
                    }

                    continue;
                }

                DecodedRecord decoded;
                try
                {
                    decoded = RecordDecoder.Decode(record.Value);
                }
                catch (MessagePackFormatException e)
                {
                    bad++;
                    await Console.Error.WriteLineAsync($"ingest tail: skipped {record.Topic}[{record.Partition}]@{record.Offset}: {e.Message}");
                    continue;
                }

                if (only is not null && decoded.Channel != only)
                {
                    continue;
                }

                foreach (var raw in decoded.Events)
                {
                    await stdout.WriteLineAsync(RecordDecoder.EventAsJson(decoded, raw));
                    lastEvent.Restart();
                    if (++printed == limit)
                    {
                        await stdout.FlushAsync();
                        return 0;
                    }
                }

                await stdout.FlushAsync();
            }

            if (bad > 0)
            {
                await Console.Error.WriteLineAsync($"ingest tail: {bad} record(s) were not ingest records");
            }

            if (limit is not null && printed < limit)
            {
                await Console.Error.WriteLineAsync($"ingest tail: stopped after {printed} of {limit} events");
                return 1;
            }

            return 0;
        });
        return command;
    }
}
