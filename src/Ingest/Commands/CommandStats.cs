namespace Ingest.Commands;

/// <summary>Counters of the command path: one per status, plus what was ignored or could not be published.</summary>
public sealed class CommandStats
{
    private readonly long[] _byStatus = new long[Enum.GetValues<CommandStatus>().Length];
    private long _wrongHost;
    private long _publishRetries;
    private CommandOutcome? _last;

    public long WrongHost => Interlocked.Read(ref _wrongHost);

    public long PublishRetries => Interlocked.Read(ref _publishRetries);

    public long this[CommandStatus status] => Interlocked.Read(ref _byStatus[(int)status]);

    /// <summary>The latest decided command (heartbeats carry it); null before the first.</summary>
    public CommandOutcome? Last => Volatile.Read(ref _last);

    public void OnResult(CommandStatus status) => Interlocked.Increment(ref _byStatus[(int)status]);

    public void OnResult(CommandResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        OnResult(result.Status);
        Volatile.Write(ref _last, new CommandOutcome(result.Id, result.Status, result.Op, result.AtMs));
    }

    public void OnWrongHost() => Interlocked.Increment(ref _wrongHost);

    public void OnPublishRetry() => Interlocked.Increment(ref _publishRetries);

    /// <summary>name → value, for the daemon's stats: applied, denied, ..., wrong_host, publish_retries.</summary>
    public IReadOnlyDictionary<string, long> Snapshot()
    {
        var snapshot = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (CommandStatus status in Enum.GetValues<CommandStatus>())
        {
            snapshot[status.ToWire()] = this[status];
        }

        snapshot["wrong_host"] = WrongHost;
        snapshot["publish_retries"] = PublishRetries;
        return snapshot;
    }
}
