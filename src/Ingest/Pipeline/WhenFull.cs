namespace Ingest.Pipeline;

/// <summary>What an edge does with new work when its buffer is full (Vector's when_full).</summary>
public enum WhenFull
{
    /// <summary>The producer waits: back-pressure travels upstream to the source.</summary>
    Block,

    /// <summary>The new item is dropped and its events are counted under a named reason.</summary>
    DropNewest,
}
