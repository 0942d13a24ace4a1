using Ingest.Transports.Events;

namespace Ingest.Transports.Tests;

/// <summary>The one name cache every source uses (proc fields, uevent keys, upcall environment names).</summary>
public class EventNameCacheTests
{
    [Fact]
    public void Returns_the_same_name_for_repeated_keys_up_to_capacity()
    {
        var cache = new EventNameCache(capacity: 2);
        var home = cache.Get("HOME"u8);
        var path = cache.Get("PATH"u8);
        Assert.Same(home, cache.Get("HOME"u8));
        Assert.Same(path, cache.Get("PATH"u8));

        // Past capacity a name is still correct, just not kept.
        var extra = cache.Get("KINGEST_SEQ"u8);
        Assert.Equal("KINGEST_SEQ", extra.Value);
        Assert.NotSame(extra, cache.Get("KINGEST_SEQ"u8));
    }

    [Fact]
    public void Decodes_utf8_and_handles_keys_longer_than_the_cached_limit()
    {
        var cache = new EventNameCache(capacity: 8);
        Assert.Equal("ÄÖÜ_KEY", cache.Get("ÄÖÜ_KEY"u8).Value);
        var longKey = new string('K', 300);
        Assert.Equal(longKey, cache.Get(System.Text.Encoding.UTF8.GetBytes(longKey)).Value);
        Assert.Equal(new byte[] { 0xC3, 0x84 }, cache.Get("Ä"u8).Utf8);
    }

    [Fact]
    public void Invalid_utf8_is_replaced_and_still_cached_by_its_bytes()
    {
        var cache = new EventNameCache(capacity: 8);
        var bad = cache.Get([0x41, 0xFF, 0x42]);
        Assert.Equal("A\uFFFDB", bad.Value);
        Assert.Same(bad, cache.Get([0x41, 0xFF, 0x42]));
        Assert.Equal(1, cache.Count);
    }
}
