using System.Text;
using Ingest.Transports.Events;

namespace Ingest.Transports.Proc;

/// <summary>
/// Map keys read from a file (interface names, meminfo fields, "cpu3") as <see cref="EventName"/>s,
/// looked up by their bytes so a name seen before costs no allocation. Bounded: past
/// <c>capacity</c> names, new ones are created each time rather than remembered.
/// </summary>
internal sealed class EventNameCache(int capacity = 4096)
{
    private readonly Dictionary<byte[], EventName> _names = new(Utf8Comparer.Instance);

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
            _names.Add(name.Utf8, name);
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
