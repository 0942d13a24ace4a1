namespace Ingest.Pipeline;

/// <summary>
/// Told of a record's outcome by the record itself, on the producer's delivery thread: the spool's
/// sender uses it to find what the broker could not take. Must be cheap and must not throw.
/// </summary>
internal interface IRecordListener
{
    void OnDelivered(OutgoingRecord record);

    /// <summary>Counted as failed (dropped) for good.</summary>
    void OnFailed(OutgoingRecord record);

    /// <summary>True when the listener keeps the record to publish it again.</summary>
    bool OnRetriableFailure(OutgoingRecord record);

    /// <summary>True when the listener keeps the record for the next start.</summary>
    bool OnShutdown(OutgoingRecord record);
}
