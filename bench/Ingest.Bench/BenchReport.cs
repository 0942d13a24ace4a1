using System.Globalization;
using System.Text;

namespace Ingest.Bench;

/// <summary>Collects result rows and prints them as one Markdown table (pasted into README).</summary>
public sealed class BenchReport
{
    private readonly List<(string Benchmark, string Metric, double Value, string Unit, string Note)> _rows = [];
    private readonly List<(string Title, string Markdown)> _tables = [];

    public void Add(string benchmark, string metric, double value, string unit, string note = "")
    {
        lock (_rows)
        {
            _rows.Add((benchmark, metric, value, unit, note));
        }

        Console.Error.WriteLine($"  {benchmark}: {metric} = {Format(value)} {unit} {note}");
    }

    /// <summary>A table of its own shape (a per-thread split, a side-by-side comparison), printed after the rows.</summary>
    public void AddTable(string title, string markdown)
    {
        lock (_tables)
        {
            _tables.Add((title, markdown));
        }

        Console.Error.WriteLine($"  {title}:{Environment.NewLine}{markdown}");
    }

    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine("| benchmark | metric | median | unit | note |");
        sb.AppendLine("|---|---|---:|---|---|");
        foreach (var r in _rows)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {r.Benchmark} | {r.Metric} | {Format(r.Value)} | {r.Unit} | {r.Note} |");
        }

        foreach (var (title, markdown) in _tables)
        {
            sb.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"**{title}**").AppendLine().Append(markdown);
        }

        return sb.ToString();
    }

    public static string Format(double v) => v switch
    {
        double.NaN => "n/a",
        >= 1000 => v.ToString("N0", CultureInfo.InvariantCulture),
        >= 10 => v.ToString("F1", CultureInfo.InvariantCulture),
        _ => v.ToString("G3", CultureInfo.InvariantCulture),
    };
}
