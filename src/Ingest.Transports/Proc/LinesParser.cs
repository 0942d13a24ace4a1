using Ingest.Transports.Events;

namespace Ingest.Transports.Proc;

/// <summary>
/// Any other file: <c>{"lines": [str, ...]}</c>, its lines as text, at most
/// <see cref="ProcScrapeOptions.MaxLines"/> lines and <see cref="ProcScrapeOptions.MaxLineBytes"/>
/// bytes of them; a scrape that had to stop early counts one "lines_truncated".
/// </summary>
public sealed class LinesParser(int maxLines, int maxBytes, Counter truncated) : IProcParser
{
    private static readonly EventName Type = new("proc.lines");
    private static readonly EventName LinesKey = new("lines");

    public string Name => "lines";

    public EventName EventType => Type;

    public void Write(ReadOnlySpan<byte> content, long timestampNs, EventWriter writer)
    {
        var (lines, cut) = Measure(content);
        if (cut)
        {
            truncated.Increment();
        }

        writer.BeginEvent(Type, timestampNs, 1);
        writer.WriteKey(LinesKey);
        writer.WriteArrayHeader(lines);
        var rest = content;
        for (var i = 0; i < lines && ProcText.NextLine(ref rest, out var line); i++)
        {
            writer.WriteString(line);
        }

        writer.EndEvent();
    }

    private (int Lines, bool Cut) Measure(ReadOnlySpan<byte> content)
    {
        var rest = content;
        var lines = 0;
        long bytes = 0;
        while (ProcText.NextLine(ref rest, out var line))
        {
            bytes += line.Length;
            if (lines == maxLines || bytes > maxBytes)
            {
                return (lines, true);
            }

            lines++;
        }

        return (lines, false);
    }
}
