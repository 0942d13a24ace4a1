using Ingest.Encoding.MessagePack;
using Lib = global::MessagePack;

namespace Ingest.Tests.Encoding;

/// <summary>Builds test documents with MessagePack-CSharp's writer over the project's pooled buffer, as the project encodes off the hot path.</summary>
internal static class Msgpack
{
    public delegate void Body(ref Lib.MessagePackWriter writer);

    public static byte[] Build(Body body)
    {
        using var buffer = new PooledBufferWriter(16);
        var writer = new Lib.MessagePackWriter(buffer);
        body(ref writer);
        writer.Flush();
        return buffer.ToArray();
    }
}
