using Ingest.Transports.Events;

namespace Ingest.Transports.Tests.Fakes;

public class RecordingEventWriterTests
{
    private static readonly EventName Type = new("t");
    private static readonly EventName A = new("a");
    private static readonly EventName B = new("b");
    private static readonly EventName C = new("c");

    [Fact]
    public void Builds_nested_structures_and_numbers_events()
    {
        var w = new RecordingEventWriter();
        w.BeginEvent(Type, 42, 2);
        w.WriteKey(A);
        w.WriteMapHeader(1);
        w.WriteKey(B);
        w.WriteArrayHeader(2);
        w.Write(1L);
        w.Write(2L);
        w.Write(C, "x"u8.Length);
        w.EndEvent();
        w.BeginEvent(Type, 43, 0);
        w.EndEvent();
        w.Flush();

        var events = w.Snapshot();
        Assert.Equal(2, events.Count);
        Assert.Equal([0UL, 1UL], events.Select(e => e.Seq));
        var a = events[0].Get<Dictionary<string, object?>>("a");
        Assert.Equal(new List<object?> { 1L, 2L }, a["b"]);
        Assert.Equal(1L, events[0].Get<long>("c"));
    }

    [Fact]
    public void Rejects_an_event_with_fewer_fields_than_declared()
    {
        var w = new RecordingEventWriter();
        w.BeginEvent(Type, 0, 2);
        w.Write(A, 1L);
        Assert.Throws<InvalidOperationException>(w.EndEvent);
    }
}
