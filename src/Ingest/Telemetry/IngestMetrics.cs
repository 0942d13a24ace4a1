using System.Diagnostics;
using System.Diagnostics.Metrics;
using Ingest.Commands;
using Ingest.Pipeline;
using Ingest.Sinks.Kafka;

namespace Ingest.Telemetry;

/// <summary>
/// The daemon's metrics through System.Diagnostics.Metrics. Counters and gauges are observable:
/// they read the figures the pipeline, sink and command path already keep (so the hot path pays
/// nothing extra) when a listener collects. Histograms are recorded per acknowledged record by the
/// <see cref="IRecordObserver"/> this class implements. Components register with the Add* methods;
/// the OpenTelemetry exporters (<see cref="TelemetryExport"/>) or a MeterListener reads them.
/// </summary>
public sealed class IngestMetrics : IRecordObserver, IDisposable
{
    public const string MeterName = "Ingest";

    private readonly Lock _gate = new();
    private readonly List<SourceStats> _sources = [];
    private readonly List<SinkRegistration> _sinks = [];
    private readonly List<CommandStats> _commands = [];
    private readonly List<RingRegistration> _rings = [];
    private readonly List<Func<SpoolSnapshot>> _spools = [];
    private readonly Histogram<long> _batchEvents;
    private readonly Histogram<long> _batchBytes;
    private readonly Histogram<double> _deliveryLatency;

    public IngestMetrics()
    {
        Meter = new Meter(MeterName, typeof(IngestMetrics).Assembly.GetName().Version?.ToString());
        Meter.CreateObservableCounter(IngestMetricNames.EventsReceived, () => PerSource(static s => s.Received), "{event}", "Events the source wrote into the pipeline");
        Meter.CreateObservableCounter(IngestMetricNames.EventsDelivered, () => PerSource(static s => s.Delivered), "{event}", "Events in records the broker acknowledged");
        Meter.CreateObservableCounter(IngestMetricNames.EventsDropped, ObserveDropped, "{event}", "Events lost after the source wrote them, by reason");
        Meter.CreateObservableGauge(IngestMetricNames.EventsInFlight, () => PerSource(static s => s.InFlight), "{event}", "Events received and not yet delivered, dropped or spooled");
        Meter.CreateObservableGauge(IngestMetricNames.EventsSpooled, () => PerSource(static s => s.Spooled), "{event}", "Events in records the spool holds");
        Meter.CreateObservableCounter(IngestMetricNames.SourceRewinds, () => PerSource(static s => s.Rewinds), "{rewind}", "Times an acknowledging source (the ring) was sent back to its last published position after a loss");
        Meter.CreateObservableCounter(IngestMetricNames.RecordsDelivered, () => PerSource(static s => s.RecordsDelivered), "{record}", "Records (batches) the broker acknowledged");
        Meter.CreateObservableCounter(IngestMetricNames.BytesDelivered, () => PerSource(static s => s.BytesDelivered), "By", "Encoded bytes of acknowledged records");
        Meter.CreateObservableCounter(IngestMetricNames.TransportCounter, ObserveTransport, "{count}", "A transport's own counters (malformed, truncated, kernel drops, ...), by name");
        Meter.CreateObservableCounter(IngestMetricNames.NetlinkOverruns, ObserveOverruns, "{overrun}", "ENOBUFS on netlink sockets: the kernel dropped messages");
        Meter.CreateObservableGauge(IngestMetricNames.QueueDepth, () => PerSource(static s => s.QueueDepth()), "{chunk}", "Chunks waiting on a source's bounded edge");
        Meter.CreateObservableGauge(IngestMetricNames.SinkQueueDepth, () => PerSink(static s => s.SinkQueue()), "{record}", "Records waiting on the edge to the producer");
        Meter.CreateObservableGauge(IngestMetricNames.ProducerInFlight, () => PerSink(static s => s.Counters.InFlight), "{record}", "Records handed to the producer and not yet acknowledged");
        Meter.CreateObservableCounter(IngestMetricNames.ProducerRecords, ObserveProducer, "{record}", "Producer outcomes: produced, delivered, failed, queue_full, abandoned");
        Meter.CreateObservableCounter(IngestMetricNames.BrokerErrors, () => PerSink(static s => s.Counters.BrokerErrors), "{error}", "Errors reported by librdkafka's error callback");
        Meter.CreateObservableCounter(IngestMetricNames.Commands, ObserveCommands, "{command}", "Commands by result status");
        Meter.CreateObservableCounter(IngestMetricNames.CommandsRejectedUnverified, ObserveRejectedUnverified, "{record}", "kernel.commands records refused before signature verification, by reason");
        Meter.CreateObservableGauge(IngestMetricNames.CommandPathUp, ObserveCommandPath, "{state}", "1 while the command path runs, 0 while a fault keeps it disabled (the reason is in the log and `ingest stats`)");
        Meter.CreateObservableGauge(IngestMetricNames.RingLag, ObserveRingLag, "By", "Ring producer position minus consumer position");
        Meter.CreateObservableGauge(IngestMetricNames.SpoolBytes, () => PerSpool(static s => s.Bytes), "By", "Size of the spool's segment files");
        Meter.CreateObservableGauge(IngestMetricNames.SpoolRecords, () => PerSpool(static s => s.Records), "{record}", "Records in the spool not yet published");
        Meter.CreateObservableGauge(IngestMetricNames.SpoolOldestAge, () => PerSpoolDouble(static s => s.OldestAgeSeconds), "s", "Age of the oldest record in the spool");
        Meter.CreateObservableGauge(IngestMetricNames.SpoolReplayRate, () => PerSpoolDouble(static s => s.ReplayRate), "{event}/s", "Events per second published from the spool");
        Meter.CreateObservableCounter(IngestMetricNames.SpoolFrames, ObserveSpoolFrames, "{record}", "Spool outcomes: spooled, replayed, spool_full, spool_corrupt");
        Meter.CreateObservableCounter(IngestMetricNames.SpoolReplayedBytes, () => PerSpool(static s => s.ReplayedBytes), "By", "Encoded bytes published from the spool");
        _batchEvents = Meter.CreateHistogram<long>(IngestMetricNames.BatchEvents, "{event}", "Events per acknowledged record");
        _batchBytes = Meter.CreateHistogram<long>(IngestMetricNames.BatchBytes, "By", "Encoded bytes per acknowledged record");
        _deliveryLatency = Meter.CreateHistogram<double>(IngestMetricNames.DeliveryLatency, "s", "From hand-over to the producer to the broker's acknowledgement");
    }

    public Meter Meter { get; }

    /// <summary>Delivery latency for `ingest stats`, recorded alongside the OTLP histogram.</summary>
    public LatencyHistogram DeliveryLatency { get; } = new();

    /// <summary>Samples batch spans: 0 = none, 1 = every delivered batch.</summary>
    public double BatchSpanRatio { get; set; }

    public void AddSources(IEnumerable<SourceStats> sources)
    {
        lock (_gate)
        {
            _sources.AddRange(sources);
        }
    }

    /// <param name="counters">The producer's counters.</param>
    /// <param name="sinkQueue">Records waiting on the pipeline's sink edge.</param>
    public void AddSink(SinkCounters counters, Func<int> sinkQueue)
    {
        lock (_gate)
        {
            _sinks.Add(new SinkRegistration(counters, sinkQueue));
        }
    }

    public void AddCommands(CommandStats stats)
    {
        lock (_gate)
        {
            _commands.Add(stats);
        }
    }

    /// <summary>A ring reader registers its lag: producer position minus consumer position, in bytes.</summary>
    public void AddRingLag(string channel, string source, Func<long> lag)
    {
        lock (_gate)
        {
            _rings.Add(new RingRegistration(channel, source, lag));
        }
    }

    /// <summary>The durable spool registers a snapshot of its figures.</summary>
    public void AddSpool(Func<SpoolSnapshot> snapshot)
    {
        lock (_gate)
        {
            _spools.Add(snapshot);
        }
    }

    /// <summary>Registered ring lags by "channel/source", for `ingest stats`.</summary>
    public Dictionary<string, long> RingLags()
    {
        lock (_gate)
        {
            var lags = new Dictionary<string, long>(_rings.Count, StringComparer.Ordinal);
            foreach (var r in _rings)
            {
                lags[$"{r.Channel}/{r.Source}"] = r.Lag();
            }

            return lags;
        }
    }

    /// <inheritdoc />
    public void OnDelivered(OutgoingRecord record, long publishedTimestamp)
    {
        var channel = new KeyValuePair<string, object?>("channel", record.Stats.Channel);
        _batchEvents.Record(record.Count, channel);
        _batchBytes.Record(record.Value.Length, channel);
        if (publishedTimestamp != 0)
        {
            var elapsed = Stopwatch.GetElapsedTime(publishedTimestamp);
            _deliveryLatency.Record(elapsed.TotalSeconds, channel);
            DeliveryLatency.Record(elapsed);
        }

        IngestTracing.RecordBatch(record, publishedTimestamp, BatchSpanRatio);
    }

    public void Dispose() => Meter.Dispose();

    private List<Measurement<long>> PerSpool(Func<SpoolSnapshot, long> read)
    {
        lock (_gate)
        {
            return _spools.ConvertAll(s => new Measurement<long>(read(s())));
        }
    }

    private List<Measurement<double>> PerSpoolDouble(Func<SpoolSnapshot, double> read)
    {
        lock (_gate)
        {
            return _spools.ConvertAll(s => new Measurement<double>(read(s())));
        }
    }

    private List<Measurement<long>> ObserveSpoolFrames()
    {
        lock (_gate)
        {
            var measurements = new List<Measurement<long>>(_spools.Count * 4);
            foreach (var spool in _spools)
            {
                var s = spool();
                measurements.Add(new Measurement<long>(s.SpooledRecords, new KeyValuePair<string, object?>("outcome", "spooled")));
                measurements.Add(new Measurement<long>(s.ReplayedRecords, new KeyValuePair<string, object?>("outcome", "replayed")));
                measurements.Add(new Measurement<long>(s.Full, new KeyValuePair<string, object?>("outcome", "spool_full")));
                measurements.Add(new Measurement<long>(s.Corrupt, new KeyValuePair<string, object?>("outcome", "spool_corrupt")));
            }

            return measurements;
        }
    }

    private static KeyValuePair<string, object?>[] SourceTags(SourceStats s) =>
        [new("channel", s.Channel), new("source", s.Name)];

    private List<Measurement<long>> PerSource(Func<SourceStats, long> read)
    {
        lock (_gate)
        {
            var measurements = new List<Measurement<long>>(_sources.Count);
            foreach (var s in _sources)
            {
                measurements.Add(new Measurement<long>(read(s), SourceTags(s)));
            }

            return measurements;
        }
    }

    private List<Measurement<long>> PerSink(Func<SinkRegistration, long> read)
    {
        lock (_gate)
        {
            var measurements = new List<Measurement<long>>(_sinks.Count);
            foreach (var s in _sinks)
            {
                measurements.Add(new Measurement<long>(read(s)));
            }

            return measurements;
        }
    }

    private List<Measurement<long>> ObserveDropped()
    {
        lock (_gate)
        {
            var measurements = new List<Measurement<long>>(_sources.Count * DropReasonNames.Count);
            foreach (var s in _sources)
            {
                foreach (var reason in Enum.GetValues<DropReason>())
                {
                    measurements.Add(new Measurement<long>(s.Dropped(reason), [new("channel", s.Channel), new("source", s.Name), new("reason", reason.Name())]));
                }
            }

            return measurements;
        }
    }

    private List<Measurement<long>> ObserveTransport()
    {
        lock (_gate)
        {
            var measurements = new List<Measurement<long>>();
            foreach (var s in _sources)
            {
                foreach (var counter in s.TransportCounters.All)
                {
                    measurements.Add(new Measurement<long>(counter.Value, [new("channel", s.Channel), new("source", s.Name), new("counter", counter.Name)]));
                }
            }

            return measurements;
        }
    }

    private List<Measurement<long>> ObserveOverruns()
    {
        lock (_gate)
        {
            var measurements = new List<Measurement<long>>();
            foreach (var s in _sources)
            {
                if (s.Channel == "netlink")
                {
                    measurements.Add(new Measurement<long>(s.TransportCounters["overrun"].Value, SourceTags(s)));
                }
            }

            return measurements;
        }
    }

    private List<Measurement<long>> ObserveProducer()
    {
        lock (_gate)
        {
            var measurements = new List<Measurement<long>>(_sinks.Count * 5);
            foreach (var s in _sinks)
            {
                var c = s.Counters;
                measurements.Add(new Measurement<long>(c.Produced, new KeyValuePair<string, object?>("outcome", "produced")));
                measurements.Add(new Measurement<long>(c.Delivered, new KeyValuePair<string, object?>("outcome", "delivered")));
                measurements.Add(new Measurement<long>(c.Failed, new KeyValuePair<string, object?>("outcome", "failed")));
                measurements.Add(new Measurement<long>(c.QueueFull, new KeyValuePair<string, object?>("outcome", "queue_full")));
                measurements.Add(new Measurement<long>(c.Abandoned, new KeyValuePair<string, object?>("outcome", "abandoned")));
            }

            return measurements;
        }
    }

    private List<Measurement<long>> ObserveCommands()
    {
        lock (_gate)
        {
            var measurements = new List<Measurement<long>>();
            foreach (var stats in _commands)
            {
                foreach (var status in Enum.GetValues<CommandStatus>())
                {
                    measurements.Add(new Measurement<long>(stats[status], new KeyValuePair<string, object?>("status", status.ToWire())));
                }

                measurements.Add(new Measurement<long>(stats.WrongHost, new KeyValuePair<string, object?>("status", "wrong_host")));
            }

            return measurements;
        }
    }

    private List<Measurement<long>> ObserveRejectedUnverified()
    {
        lock (_gate)
        {
            var measurements = new List<Measurement<long>>();
            foreach (var stats in _commands)
            {
                foreach (var reason in Enum.GetValues<RejectReason>())
                {
                    measurements.Add(new Measurement<long>(stats[reason], new KeyValuePair<string, object?>("reason", reason.ToWire())));
                }
            }

            return measurements;
        }
    }

    private List<Measurement<long>> ObserveCommandPath()
    {
        lock (_gate)
        {
            return [.. _commands.Select(static s => new Measurement<long>(s.State == CommandPathState.Running ? 1 : 0))];
        }
    }

    private List<Measurement<long>> ObserveRingLag()
    {
        lock (_gate)
        {
            var measurements = new List<Measurement<long>>(_rings.Count);
            foreach (var r in _rings)
            {
                measurements.Add(new Measurement<long>(r.Lag(), [new("channel", r.Channel), new("source", r.Source)]));
            }

            return measurements;
        }
    }

    private sealed record SinkRegistration(SinkCounters Counters, Func<int> SinkQueue);

    private sealed record RingRegistration(string Channel, string Source, Func<long> Lag);
}
