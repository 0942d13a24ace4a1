namespace Ingest.Commands;

/// <summary>What <see cref="CommandProcessor.Process"/> made of a record.</summary>
public enum CommandDecision
{
    /// <summary>Verified and decided: a result is published.</summary>
    Result,

    /// <summary>Keyed or signed for another host: nothing to answer.</summary>
    Ignored,

    /// <summary>Refused before the signature verified: counted, summarised, not answered one by one.</summary>
    Unverified,
}
