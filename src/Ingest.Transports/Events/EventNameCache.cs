using System.Text;

namespace Ingest.Transports.Events;

/// <summary>
/// Map keys read from input (interface names, meminfo fields, uevent and upcall environment
/// names) as <see cref="EventName"/>s, looked up by their UTF-8 bytes: the kernel repeats a small
/// set, so after warm-up a lookup allocates nothing. Bounded: past <see cref="Capacity"/> distinct
/// names, new ones are made each time rather than remembered. Not thread-safe (one per source).
/// </summary>
internal sealed class EventNameCache(int capacity = EventNameCache.DefaultCapacity)
{
    public const int DefaultCapacity = 4096;

    private readonly Dictionary<byte[], EventName> _names = new(Utf8Comparer.Instance);

    public int Capacity => capacity;

    public int Count => _names.Count;

    /// <summary>The name for <paramref name="utf8"/> (invalid sequences decode to U+FFFD, as everywhere else).</summary>
    public EventName Get(ReadOnlySpan<byte> utf8)
    {
        var lookup = _names.GetAlternateLookup<ReadOnlySpan<byte>>();
        if (lookup.TryGetValue(utf8, out var name))
        {
            return name;
        }

        name = new EventName(Encoding.UTF8.GetString(utf8));
        if (_names.Count < capacity)
        {
            // Keyed by the input bytes (not name.Utf8): the next lookup of the same bytes hits.
            _names.Add(utf8.ToArray(), name);
        }

        return name;
    }

    private sealed class Utf8Comparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
    {
        public static readonly Utf8Comparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => GetHashCode(obj.AsSpan());

        public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

        public int GetHashCode(ReadOnlySpan<byte> alternate)
        {
            var hash = default(HashCode);
            hash.AddBytes(alternate);
            return hash.ToHashCode();
        }

        public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
    }
}
