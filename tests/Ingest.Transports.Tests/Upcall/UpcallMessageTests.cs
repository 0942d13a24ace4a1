using Ingest.Transports.Upcall;

namespace Ingest.Transports.Tests.Upcall;

public class UpcallMessageTests
{
    [Fact]
    public void Parses_argv_then_env_and_finds_env_values()
    {
        var bytes = UpcallWire.Encode(["/helper", "event", ""], ["A=1", "LONGER=x=y", "E="]);
        Assert.True(UpcallMessage.TryParse(bytes, 16, out var message));
        Assert.Equal(3, message.ArgCount);
        Assert.Equal(3, message.EnvCount);
        Assert.Equal("event"u8.ToArray(), message.Arg(1).ToArray());
        Assert.True(message.TryGetEnv("LONGER"u8, out var v));
        Assert.Equal("x=y"u8.ToArray(), v.ToArray());
        Assert.True(message.TryGetEnv("E"u8, out v));
        Assert.True(v.IsEmpty);
        Assert.False(message.TryGetEnv("LONG"u8, out _));
    }

    [Fact]
    public void Accepts_an_empty_message_body()
    {
        Assert.True(UpcallMessage.TryParse(UpcallWire.Encode([], []), 1, out var message));
        Assert.Equal(0, message.ArgCount + message.EnvCount);
    }

    [Fact]
    public void Rejects_every_truncation_of_a_valid_message()
    {
        var bytes = UpcallWire.Encode(["/helper", "x"], ["K=V"]);
        for (var length = 0; length < bytes.Length; length++)
        {
            Assert.False(UpcallMessage.TryParse(bytes.AsSpan(0, length), 16, out _), $"accepted the first {length} bytes");
        }
    }

    [Fact]
    public void Rejects_counts_that_would_overflow_the_string_limit()
    {
        var bytes = UpcallWire.Encode(["a"], []);
        BitConverter.TryWriteBytes(bytes.AsSpan(4), uint.MaxValue);
        BitConverter.TryWriteBytes(bytes.AsSpan(8), 2u);
        Assert.False(UpcallMessage.TryParse(bytes, 1024, out _));
    }
}
