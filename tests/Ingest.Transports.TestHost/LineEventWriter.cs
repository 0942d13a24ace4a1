using System.Globalization;
using System.Text;
using Ingest.Transports.Events;

namespace Ingest.Transports.TestHost;

/// <summary>Writes each event as one line, "type key=value ...", flattening nested maps; for parent tests to parse.</summary>
internal sealed class LineEventWriter(TextWriter output) : EventWriter
{
    private readonly StringBuilder _line = new();
    private readonly StringBuilder _pending = new();
    private ulong _seq;

    public override ulong NextSequence => _seq;

    public override void BeginEvent(EventName type, long timestampNs, int dataFieldCount)
    {
        _line.Clear().Append(type.Value);
        _seq++;
    }

    public override void EndEvent() => _pending.Append(_line).Append('\n');

    public override void CancelEvent() => _line.Clear();

    public override void WriteKey(EventName key) => _line.Append(' ').Append(key.Value).Append('=');

    public override void WriteMapHeader(int count) => _line.Append("{}");

    public override void WriteArrayHeader(int count) => _line.Append("[]");

    public override void WriteNil() => _line.Append("nil");

    public override void Write(bool value) => _line.Append(value ? "true" : "false");

    public override void Write(long value) => _line.Append(value.ToString(CultureInfo.InvariantCulture));

    public override void Write(ulong value) => _line.Append(value.ToString(CultureInfo.InvariantCulture));

    public override void Write(double value) => _line.Append(value.ToString(CultureInfo.InvariantCulture));

    public override void Write(EventName value) => _line.Append(value.Value);

    public override void WriteString(ReadOnlySpan<char> value) => _line.Append(value);

    public override void WriteString(ReadOnlySpan<byte> utf8) => _line.Append(Encoding.UTF8.GetString(utf8));

    public override void WriteBinary(ReadOnlySpan<byte> value) => _line.Append(Convert.ToHexString(value));

    public override void Flush(long checkpoint = -1)
    {
        lock (output)
        {
            output.Write(_pending);
            output.Flush();
        }

        _pending.Clear();
    }

    public override ValueTask FlushAsync(long checkpoint = -1, CancellationToken cancellationToken = default)
    {
        Flush(checkpoint);
        return ValueTask.CompletedTask;
    }
}
