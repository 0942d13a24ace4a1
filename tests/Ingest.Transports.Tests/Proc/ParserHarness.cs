using System.Text;
using Ingest.Transports.Proc;
using Ingest.Transports.Tests.Fakes;

namespace Ingest.Transports.Tests.Proc;

/// <summary>Runs a parser over a text or a live file and returns the one event it wrote.</summary>
internal static class ParserHarness
{
    public static RecordedEvent Parse(IProcParser parser, string text)
    {
        var writer = new RecordingEventWriter();
        parser.Write(Encoding.UTF8.GetBytes(text), 42, writer);
        writer.Flush();
        var e = Assert.Single(writer.Snapshot());
        Assert.Equal(42, e.TimestampNs);
        Assert.Equal(parser.EventType.Value, e.Type);
        return e;
    }

    public static RecordedEvent ParseLive(IProcParser parser, string path)
    {
        if (!File.Exists(path))
        {
            Assert.Skip($"{path} does not exist on this host");
        }

        return Parse(parser, File.ReadAllText(path));
    }

    /// <summary>Malformed text must throw before anything is written: no event, no sequence number taken.</summary>
    public static ProcFormatException Rejects(IProcParser parser, string text)
    {
        var writer = new RecordingEventWriter();
        var error = Assert.Throws<ProcFormatException>(() => parser.Write(Encoding.UTF8.GetBytes(text), 42, writer));
        writer.Flush();
        Assert.Empty(writer.Snapshot());
        Assert.Equal(0UL, writer.NextSequence);
        return error;
    }

    public static Dictionary<string, object?> Map(this Dictionary<string, object?> data, string key) =>
        (Dictionary<string, object?>)data[key]!;
}
