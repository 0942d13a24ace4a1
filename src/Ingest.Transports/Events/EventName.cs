using System.Text;

namespace Ingest.Transports.Events;

/// <summary>
/// A field name, event type or other constant string, UTF-8 encoded once so that writing it on a
/// hot path is a copy. Create them as <c>static readonly</c> fields.
/// </summary>
public sealed class EventName
{
    public EventName(string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        Value = value;
        Utf8 = Encoding.UTF8.GetBytes(value);
    }

    public string Value { get; }

    public byte[] Utf8 { get; }

    public override string ToString() => Value;
}
