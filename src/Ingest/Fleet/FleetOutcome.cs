using Ingest.Commands;

namespace Ingest.Fleet;

/// <summary>One host's part of a fleet command: its verified result, or none within the timeout.</summary>
/// <param name="Host">The target host id.</param>
/// <param name="Result">The host's verified result; null when none arrived in time.</param>
/// <param name="Elapsed">From publishing the host's command to its result (or to the timeout).</param>
/// <param name="Error">Why the command could not be published, if so (counted as failed).</param>
public sealed record FleetOutcome(string Host, CommandResult? Result, TimeSpan Elapsed, string? Error = null)
{
    public bool Applied => Result?.Status == CommandStatus.Applied;

    public bool TimedOut => Result is null && Error is null;

    /// <summary>For a timeout: what was still awaited (null = the host's result).</summary>
    public string? Detail { get; init; }

    /// <summary>One line for people: status, host, the result's details, time.</summary>
    public override string ToString()
    {
        var ms = Elapsed.TotalMilliseconds.ToString("0", System.Globalization.CultureInfo.InvariantCulture);
        if (Error is not null)
        {
            return $"failed  {Host} error=\"{Error}\" ({ms} ms)";
        }

        return Result is null ? $"timeout {Host} {Detail ?? "no verified result"} ({ms} ms)" : $"{Result} ({ms} ms)";
    }
}
