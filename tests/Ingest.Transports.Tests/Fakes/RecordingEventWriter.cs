using System.Text;
using Ingest.Transports.Events;

namespace Ingest.Transports.Tests.Fakes;

/// <summary>One event as a source wrote it: values are long, ulong, double, bool, string, byte[],
/// null, <see cref="Dictionary{TKey,TValue}"/> (maps) or <see cref="List{T}"/> (arrays).</summary>
public sealed record RecordedEvent(ulong Seq, string Type, long TimestampNs, Dictionary<string, object?> Data)
{
    public T Get<T>(string key) => (T)Data[key]!;
}

/// <summary>
/// Unit-level fake of the pipeline's writer: builds each event into objects and checks that the
/// source wrote exactly the structure it declared (field counts, keys before values). Thread-safe
/// for readers via <see cref="Snapshot"/> and <see cref="WaitForAsync"/>.
/// </summary>
public sealed class RecordingEventWriter : EventWriter
{
    private readonly List<RecordedEvent> _events = [];
    private readonly List<RecordedEvent> _pending = [];
    private readonly Stack<Frame> _frames = new();
    private ulong _seq;
    private (string Type, long Ts, ulong Seq)? _current;
    private string? _key;

    public int Flushes { get; private set; }

    public List<long> Checkpoints { get; } = [];

    public override ulong NextSequence => _seq;

    public IReadOnlyList<RecordedEvent> Snapshot()
    {
        lock (_events)
        {
            return [.. _events];
        }
    }

    /// <summary>Waits until at least <paramref name="count"/> flushed events match, or the timeout passes.</summary>
    public async Task<IReadOnlyList<RecordedEvent>> WaitForAsync(Func<RecordedEvent, bool> match, int count = 1, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var found = Snapshot().Where(match).ToList();
            if (found.Count >= count || DateTime.UtcNow > deadline)
            {
                return found;
            }

            await Task.Delay(20);
        }
    }

    public override void BeginEvent(EventName type, long timestampNs, int dataFieldCount)
    {
        if (_current is not null)
        {
            throw new InvalidOperationException("BeginEvent inside an event");
        }

        _current = (type.Value, timestampNs, _seq++);
        _frames.Clear();
        _frames.Push(new Frame(new Dictionary<string, object?>(), dataFieldCount));
    }

    public override void EndEvent()
    {
        var current = _current ?? throw new InvalidOperationException("EndEvent without BeginEvent");
        if (_frames.Count != 1 || !_frames.Peek().Complete)
        {
            throw new InvalidOperationException($"event {current.Type} ended with unfinished structure (depth {_frames.Count}, {_frames.Peek().Remaining} entries missing)");
        }

        _pending.Add(new RecordedEvent(current.Seq, current.Type, current.Ts, (Dictionary<string, object?>)_frames.Pop().Container));
        _current = null;
    }

    public override void CancelEvent()
    {
        _current = null;
        _frames.Clear();
        _key = null;
    }

    public override void WriteKey(EventName key) => WriteKeyCore(key.Value);

    public override void WriteMapHeader(int count) => Push(new Dictionary<string, object?>(), count);

    public override void WriteArrayHeader(int count) => Push(new List<object?>(), count);

    public override void WriteNil() => Value(null);

    public override void Write(bool value) => Value(value);

    public override void Write(long value) => Value(value);

    public override void Write(ulong value) => Value(value);

    public override void Write(double value) => Value(value);

    public override void Write(EventName value) => Value(value.Value);

    public override void WriteString(ReadOnlySpan<char> value) => Value(value.ToString());

    public override void WriteString(ReadOnlySpan<byte> utf8) => Value(Encoding.UTF8.GetString(utf8));

    public override void WriteBinary(ReadOnlySpan<byte> value) => Value(value.ToArray());

    public override void Flush(long checkpoint = -1)
    {
        lock (_events)
        {
            _events.AddRange(_pending);
        }

        _pending.Clear();
        Flushes++;
        if (checkpoint >= 0)
        {
            Checkpoints.Add(checkpoint);
        }
    }

    public override ValueTask FlushAsync(long checkpoint = -1, CancellationToken cancellationToken = default)
    {
        Flush(checkpoint);
        return ValueTask.CompletedTask;
    }

    private void WriteKeyCore(string key)
    {
        if (_frames.Count == 0 || _frames.Peek().Container is not Dictionary<string, object?>)
        {
            throw new InvalidOperationException($"key '{key}' outside a map");
        }

        if (_key is not null)
        {
            throw new InvalidOperationException($"key '{key}' after key '{_key}' with no value");
        }

        _key = key;
    }

    private void Push(object container, int count)
    {
        Value(container);
        if (count > 0)
        {
            _frames.Push(new Frame(container, count));
        }
    }

    private void Value(object? value)
    {
        if (_current is null || _frames.Count == 0)
        {
            throw new InvalidOperationException("value outside an event");
        }

        var frame = _frames.Peek();
        if (frame.Container is Dictionary<string, object?> map)
        {
            var key = _key ?? throw new InvalidOperationException("map value without a key");
            if (!map.TryAdd(key, value))
            {
                throw new InvalidOperationException($"duplicate key '{key}'");
            }

            _key = null;
        }
        else
        {
            ((List<object?>)frame.Container).Add(value);
        }

        frame.Remaining--;
        if (frame.Remaining < 0)
        {
            throw new InvalidOperationException("more entries than the declared count");
        }

        // A finished container leaves the stack; its entries are already in its parent. The root
        // data map stays for EndEvent to check.
        while (_frames.Count > 1 && _frames.Peek().Complete)
        {
            _frames.Pop();
        }
    }

    private sealed class Frame(object container, int remaining)
    {
        public object Container { get; } = container;

        public int Remaining { get; set; } = remaining;

        public bool Complete => Remaining == 0;
    }
}
