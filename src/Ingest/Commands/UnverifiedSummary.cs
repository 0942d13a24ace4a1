using System.Globalization;
using System.Text;

namespace Ingest.Commands;

/// <summary>
/// Records refused before their signature verified, since the last summary: counted by reason,
/// reported (one result, one log line) at most once per <see cref="Interval"/>. Anyone can write
/// such records, so each must cost a count, not a publish or a log line.
/// </summary>
internal sealed class UnverifiedSummary
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private readonly long[] _counts = new long[Enum.GetValues<RejectReason>().Length];
    private long _total;
    private long _lastReportMs = long.MinValue;
    private string? _lastDetail;

    public long Pending => _total;

    public void Add(RejectReason reason, string? detail)
    {
        _counts[(int)reason]++;
        _total++;
        _lastDetail = detail;
    }

    /// <summary>The summary text when there is something to report and the interval has passed; then starts over.</summary>
    public bool TryTake(long nowMs, out string summary)
    {
        summary = "";
        if (_total == 0 || (_lastReportMs != long.MinValue && nowMs - _lastReportMs < (long)Interval.TotalMilliseconds))
        {
            return false;
        }

        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{_total} record(s) refused before signature verification (no result each):");
        foreach (RejectReason reason in Enum.GetValues<RejectReason>())
        {
            if (_counts[(int)reason] > 0)
            {
                text.Append(CultureInfo.InvariantCulture, $" {reason.ToWire()}={_counts[(int)reason]}");
            }
        }

        text.Append("; last: ").Append(_lastDetail);
        summary = text.ToString();
        Array.Clear(_counts);
        _total = 0;
        _lastReportMs = nowMs;
        return true;
    }
}
