using System.Text;
using Ingest.Transports.Events;

namespace Ingest.Transports.Upcall;

/// <summary>
/// Map keys that come from input (environment variable names) as <see cref="EventName"/>s. Upcall
/// environments repeat a small set of names, so after the first few messages every lookup is a
/// hit and costs no allocation; past <c>capacity</c> distinct names new ones are not kept.
/// </summary>
internal sealed class EventNameCache
{
    private const int MaxCachedKeyChars = 128;

    private readonly Dictionary<string, EventName> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, EventName>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly int _capacity;

    public EventNameCache(int capacity)
    {
        _capacity = capacity;
        _lookup = _names.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The name for non-empty, valid UTF-8 <paramref name="utf8"/>.</summary>
    public EventName Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxCachedKeyChars)
        {
            return new EventName(Encoding.UTF8.GetString(utf8));
        }

        Span<char> chars = stackalloc char[MaxCachedKeyChars];
        var length = Encoding.UTF8.GetChars(utf8, chars);
        if (_lookup.TryGetValue(chars[..length], out var name))
        {
            return name;
        }

        name = new EventName(new string(chars[..length]));
        if (_names.Count < _capacity)
        {
            _names.Add(name.Value, name);
        }

        return name;
    }
}
