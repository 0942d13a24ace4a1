namespace Ingest.Encoding.MessagePack;

/// <summary>The MessagePack type family of a value, as <see cref="MessagePackReader.PeekType"/> reports it.</summary>
public enum MessagePackType
{
    Nil,
    Boolean,
    Integer,
    Float,
    String,
    Binary,
    Array,
    Map,
    Extension,
}
