using Ingest.Transports.Kingest;

namespace Ingest.Transports.Ring;

/// <summary>How a <see cref="RingSource"/> reads its ring.</summary>
public sealed class RingSourceOptions
{
    public const int DefaultMaxBurstRecords = 4096;

    /// <summary>The device to map (for <see cref="RingSource.OpenDevice"/>).</summary>
    public string DevicePath { get; set; } = KingestAbi.DevicePath;

    /// <summary>Records read between two flushes (each flush carries a checkpoint).</summary>
    public int MaxBurstRecords { get; set; } = DefaultMaxBurstRecords;

    /// <summary>How long one wait for the producer lasts before the loop looks at cancellation again.</summary>
    public TimeSpan StopCheckInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Where the source reports what it set up and the corrections it made. Optional.</summary>
    public Action<string>? Log { get; set; }

    internal void Validate()
    {
        if (MaxBurstRecords is < 1 or > 1 << 20)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxBurstRecords), MaxBurstRecords, "must be 1..1048576");
        }

        if (StopCheckInterval <= TimeSpan.Zero || StopCheckInterval > TimeSpan.FromSeconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(StopCheckInterval), StopCheckInterval, "must be in (0, 1 s]");
        }
    }
}
