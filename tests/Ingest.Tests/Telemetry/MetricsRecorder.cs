using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Ingest.Tests.Telemetry;

/// <summary>
/// An in-process MeterListener bound to one Meter instance (so parallel tests do not see each
/// other's daemons): keeps the last value of each observable series and every histogram value.
/// </summary>
internal sealed class MetricsRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, double> _last = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentQueue<double>> _histograms = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _published = new(StringComparer.Ordinal);

    public MetricsRecorder(Meter meter)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
            {
                _published[instrument.Name] = 0;
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => OnMeasurement(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => OnMeasurement(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => OnMeasurement(instrument, value, tags));
        _listener.Start();
    }

    public IReadOnlyCollection<string> Instruments => (IReadOnlyCollection<string>)_published.Keys;

    /// <summary>Collects every observable instrument now.</summary>
    public void Collect()
    {
        _last.Clear();
        _listener.RecordObservableInstruments();
    }

    /// <summary>The last observed value of a series, e.g. Value("ingest.events.received", "channel=udp"); null when never observed.</summary>
    public double? Value(string name, params string[] tags) =>
        _last.TryGetValue(Key(name, tags), out var value) ? value : null;

    /// <summary>Sum over every series of an observable instrument whose tags include all of <paramref name="tags"/>.</summary>
    public double Sum(string name, params string[] tags)
    {
        double sum = 0;
        foreach (var (key, value) in _last)
        {
            if (Matches(key, name, tags))
            {
                sum += value;
            }
        }

        return sum;
    }

    /// <summary>Every value recorded on a histogram with the given tags.</summary>
    public double[] Recorded(string name, params string[] tags) =>
        _histograms.TryGetValue(Key(name, tags), out var values) ? [.. values] : [];

    public void Dispose() => _listener.Dispose();

    private static string Key(string name, IEnumerable<string> tags) => name + "|" + string.Join(",", tags.Order(StringComparer.Ordinal));

    private static bool Matches(string key, string name, string[] tags)
    {
        var bar = key.IndexOf('|', StringComparison.Ordinal);
        if (key[..bar] != name)
        {
            return false;
        }

        var present = key[(bar + 1)..].Split(',');
        return tags.All(present.Contains);
    }

    private void OnMeasurement(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var list = new List<string>(tags.Length);
        foreach (var tag in tags)
        {
            list.Add($"{tag.Key}={tag.Value}");
        }

        var key = Key(instrument.Name, list);
        if (instrument is Histogram<long> or Histogram<double>)
        {
            _histograms.GetOrAdd(key, static _ => new ConcurrentQueue<double>()).Enqueue(value);
        }
        else
        {
            _last[key] = value;
        }
    }
}
