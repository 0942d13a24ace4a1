using Ingest.Encoding.MessagePack;
using Lib = global::MessagePack;

namespace Ingest.Tests.Encoding;

public class MessagePackValueTests
{
    [Fact]
    public void ParsesACommandShapedDocument()
    {
        byte[] document = Msgpack.Build((ref Lib.MessagePackWriter writer) =>
        {
            writer.WriteMapHeader(4);
            writer.Write("op");
            writer.Write("sysctl");
            writer.Write("args");
            writer.WriteArrayHeader(2);
            writer.Write("net.ipv4.tcp_keepalive_time");
            writer.Write(300L);
            writer.Write("sig");
            writer.Write(new byte[] { 1, 2, 3 });
            writer.Write("big");
            writer.Write(ulong.MaxValue);
        });

        MessagePackValue value = MessagePackValue.Parse(document);

        Assert.Equal(MessagePackType.Map, value.Type);
        Assert.Equal("sysctl", value["op"].AsString());
        Assert.Equal(300, value["args"].Items[1].AsInt64());
        Assert.Equal(300UL, value["args"].Items[1].AsUInt64());
        Assert.Equal([1, 2, 3], value["sig"].AsBytes().ToArray());
        Assert.Equal(ulong.MaxValue, value["big"].AsUInt64());
        Assert.Throws<OverflowException>(() => value["big"].AsInt64());
        Assert.False(value.TryGetValue("missing", out MessagePackValue missing));
        Assert.True(missing.IsNil);
        Assert.Throws<KeyNotFoundException>(() => value["missing"]);
        Assert.Throws<InvalidOperationException>(() => value["op"].AsInt64());
        Assert.Throws<InvalidOperationException>(() => value.Items);
    }

    [Fact]
    public void EqualityIsStructuralAndIgnoresIntegerEncoding()
    {
        // 5 as positive fixint and as int 64; -1 as negative fixint and as int 16.
        Assert.Equal(MessagePackValue.Parse(Hex.Parse("92-05-ff")), MessagePackValue.Parse(Hex.Parse("92-d3-00-00-00-00-00-00-00-05-d1-ff-ff")));
        Assert.NotEqual(MessagePackValue.Parse(Hex.Parse("92-05-ff")), MessagePackValue.Parse(Hex.Parse("92-05-fe")));
        Assert.NotEqual(MessagePackValue.FromInt64(1), MessagePackValue.FromDouble(1));
        Assert.NotEqual(MessagePackValue.FromString("a"), MessagePackValue.FromBinary("a"u8));
        Assert.Equal(MessagePackValue.FromDouble(double.NaN), MessagePackValue.FromDouble(double.NaN));
        Assert.NotEqual(MessagePackValue.FromExtension(1, [0]), MessagePackValue.FromExtension(2, [0]));
        Assert.Equal(
            MessagePackValue.Parse(Hex.Parse("81-a1-61-92-01-02")).GetHashCode(),
            MessagePackValue.Parse(Hex.Parse("df-00-00-00-01-d9-01-61-dc-00-02-d0-01-cc-02")).GetHashCode());
        Assert.Equal(
            MessagePackValue.Parse(Hex.Parse("81-a1-61-92-01-02")),
            MessagePackValue.Parse(Hex.Parse("df-00-00-00-01-d9-01-61-dc-00-02-d0-01-cc-02")));
    }

    [Fact]
    public void WriteToUsesSmallestEncodings()
    {
        MessagePackValue value = MessagePackValue.Parse(Hex.Parse("df-00-00-00-01-d9-01-61-dc-00-02-d3-00-00-00-00-00-00-00-01-c3"));
        Assert.Equal("81-a1-61-92-01-c3", Hex.Format(value.ToMessagePack()));
        Assert.Equal("{\"a\":[1,true]}", value.ToString());
    }

    [Fact]
    public void BuiltValuesAreCopiesOfTheirInputs()
    {
        byte[] bytes = [1, 2];
        MessagePackValue binary = MessagePackValue.FromBinary(bytes);
        bytes[0] = 9;
        Assert.Equal(1, binary.AsBytes()[0]);

        MessagePackValue[] items = [MessagePackValue.Nil];
        MessagePackValue array = MessagePackValue.FromArray(items);
        items[0] = MessagePackValue.FromBoolean(true);
        Assert.True(array.Items[0].IsNil);
    }
}
