namespace Ingest.Fleet;

/// <summary>
/// A string read from records that rarely changes (a version, a command status): kept with its
/// UTF-8 bytes so that reading the same value again compares bytes instead of allocating.
/// </summary>
internal sealed class Utf8Text
{
    private Utf8Text(byte[] utf8, string value)
    {
        Utf8 = utf8;
        Value = value;
    }

    public byte[] Utf8 { get; }

    public string Value { get; }

    /// <summary>Returns <paramref name="current"/> when it holds these bytes, else a new text.</summary>
    public static Utf8Text Update(Utf8Text? current, ReadOnlySpan<byte> utf8) =>
        current is not null && utf8.SequenceEqual(current.Utf8) ? current : new Utf8Text(utf8.ToArray(), System.Text.Encoding.UTF8.GetString(utf8));

    public override string ToString() => Value;
}
