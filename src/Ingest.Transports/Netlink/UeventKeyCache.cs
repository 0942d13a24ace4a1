using System.Text;
using Ingest.Transports.Events;

namespace Ingest.Transports.Netlink;

/// <summary>
/// Uevent environment keys as <see cref="EventName"/>s, made once per distinct key. The kernel
/// uses a small, stable set (ACTION, DEVPATH, INTERFACE, IFINDEX, ...), so after warm-up a
/// lookup allocates nothing; past <see cref="Capacity"/> keys new ones are made uncached.
/// </summary>
internal sealed class UeventKeyCache
{
    public const int Capacity = 1024;
    public const int MaxKeyLength = 256;

    private readonly Dictionary<string, EventName> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, EventName>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public UeventKeyCache()
    {
        _lookup = _names.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public int Count => _names.Count;

    /// <summary>The name for a key of ASCII/UTF-8 bytes (at most <see cref="MaxKeyLength"/>).</summary>
    public EventName Get(ReadOnlySpan<byte> utf8)
    {
        Span<char> chars = stackalloc char[MaxKeyLength];
        var length = Encoding.UTF8.GetChars(utf8, chars);
        var key = chars[..length];
        if (_lookup.TryGetValue(key, out var name))
        {
            return name;
        }

        name = new EventName(key.ToString());
        if (_names.Count < Capacity)
        {
            _names.Add(name.Value, name);
        }

        return name;
    }
}
