namespace Ingest.Commands;

/// <summary>
/// Counters of the command path: one per status, what was ignored, refused unverified (by
/// reason) or could not be published, and whether the path is up. Shared across restarts of
/// the path, so a fault and its retry show in one place.
/// </summary>
public sealed class CommandStats
{
    private readonly long[] _byStatus = new long[Enum.GetValues<CommandStatus>().Length];
    private readonly long[] _rejected = new long[Enum.GetValues<RejectReason>().Length];
    private long _wrongHost;
    private long _publishRetries;
    private long _faults;
    private volatile CommandPathState _state = CommandPathState.Starting;
    private volatile string? _disabledReason;
    private CommandOutcome? _last;

    public long WrongHost => Interlocked.Read(ref _wrongHost);

    public long PublishRetries => Interlocked.Read(ref _publishRetries);

    /// <summary>Times the command path was disabled by a fault.</summary>
    public long Faults => Interlocked.Read(ref _faults);

    public CommandPathState State => _state;

    /// <summary>Why the path is disabled (null while starting or running).</summary>
    public string? DisabledReason => _disabledReason;

    public long this[CommandStatus status] => Interlocked.Read(ref _byStatus[(int)status]);

    public long this[RejectReason reason] => Interlocked.Read(ref _rejected[(int)reason]);

    public long RejectedUnverified => Enum.GetValues<RejectReason>().Sum(r => this[r]);

    /// <summary>The latest decided command (heartbeats carry it); null before the first.</summary>
    public CommandOutcome? Last => Volatile.Read(ref _last);

    public void OnResult(CommandStatus status) => Interlocked.Increment(ref _byStatus[(int)status]);

    public void OnResult(CommandResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        OnResult(result.Status);
        Volatile.Write(ref _last, new CommandOutcome(result.Id ?? result.ClaimedId, result.Status, result.Op, result.AtMs));
    }

    public void OnRejectedUnverified(RejectReason reason) => Interlocked.Increment(ref _rejected[(int)reason]);

    public void OnWrongHost() => Interlocked.Increment(ref _wrongHost);

    public void OnPublishRetry() => Interlocked.Increment(ref _publishRetries);

    public void OnRunning()
    {
        _disabledReason = null;
        _state = CommandPathState.Running;
    }

    public void OnDisabled(string reason)
    {
        Interlocked.Increment(ref _faults);
        _disabledReason = reason;
        _state = CommandPathState.Disabled;
    }

    /// <summary>"running", "starting", or "disabled: reason" (for `ingest stats`).</summary>
    public string Describe() => _state switch
    {
        CommandPathState.Running => "running",
        CommandPathState.Disabled => $"disabled: {_disabledReason}",
        _ => "starting",
    };

    /// <summary>
    /// name → value, for the daemon's stats: applied, denied, ..., wrong_host, publish_retries,
    /// rejected_unverified_&lt;reason&gt;, path_faults.
    /// </summary>
    public IReadOnlyDictionary<string, long> Snapshot()
    {
        var snapshot = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (CommandStatus status in Enum.GetValues<CommandStatus>())
        {
            snapshot[status.ToWire()] = this[status];
        }

        snapshot["wrong_host"] = WrongHost;
        snapshot["publish_retries"] = PublishRetries;
        foreach (RejectReason reason in Enum.GetValues<RejectReason>())
        {
            snapshot["rejected_unverified_" + reason.ToWire()] = this[reason];
        }

        snapshot["path_faults"] = Faults;
        return snapshot;
    }
}

/// <summary>Whether the command path is reading commands.</summary>
public enum CommandPathState
{
    Starting,
    Running,

    /// <summary>A fault (key file, replay store, disk, reader) stopped it; retried with backoff. Events keep flowing.</summary>
    Disabled,
}
