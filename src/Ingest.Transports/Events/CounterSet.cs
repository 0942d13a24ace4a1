using System.Collections.Concurrent;

namespace Ingest.Transports.Events;

/// <summary>
/// Named monotonically increasing counters ("malformed", "enobufs", "truncated", ...). Get the
/// <see cref="Counter"/> once at construction and increment it on the hot path.
/// </summary>
public sealed class CounterSet
{
    private readonly ConcurrentDictionary<string, Counter> _counters = new(StringComparer.Ordinal);

    public Counter this[string name] => _counters.GetOrAdd(name, static n => new Counter(n));

    public IEnumerable<Counter> All => _counters.Values.OrderBy(c => c.Name, StringComparer.Ordinal);
}

public sealed class Counter(string name)
{
    private long _value;

    public string Name { get; } = name;

    public long Value => Volatile.Read(ref _value);

    public void Increment() => Interlocked.Increment(ref _value);

    public void Add(long amount) => Interlocked.Add(ref _value, amount);

    public override string ToString() => $"{Name}={Value}";
}
