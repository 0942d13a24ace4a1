using Ingest.Transports.Signals;

namespace Ingest.Transports.Tests.Signals;

public class RealtimeSignalTests
{
    [Fact]
    public void Runtime_reserved_sigrtmin_is_rejected_with_a_reason()
    {
        Assert.Equal(34, RealtimeSignal.Min);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new SignalSourceOptions { Signals = [34] }.Validate());
        Assert.Contains(".NET runtime", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => RealtimeSignal.Parse("SIGRTMIN"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SignalSource(new SignalSourceOptions { Signals = [40, 34] }));
    }

    [Theory]
    [InlineData("40", 40)]
    [InlineData("SIGRTMIN+6", 40)]
    [InlineData("rtmin+1", 35)]
    [InlineData("SIGRTMAX", 64)]
    [InlineData(" SIGRTMAX-2 ", 62)]
    public void Parses_numbers_and_rtmin_rtmax_names(string text, int expected) =>
        Assert.Equal(expected, RealtimeSignal.Parse(text));

    [Theory]
    [InlineData("33")]
    [InlineData("65")]
    [InlineData("SIGRTMAX+1")]
    public void Rejects_signals_outside_the_usable_range(string text) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => RealtimeSignal.Parse(text));

    [Theory]
    [InlineData("SIGUSR1")]
    [InlineData("SIGRTMIN+x")]
    [InlineData("-40")]
    public void Rejects_text_that_names_no_realtime_signal(string text) =>
        Assert.Throws<FormatException>(() => RealtimeSignal.Parse(text));

    [Fact]
    public void Options_reject_an_empty_or_repeated_signal_list()
    {
        Assert.Throws<ArgumentException>(() => new SignalSourceOptions { Signals = [] }.Validate());
        Assert.Throws<ArgumentException>(() => new SignalSourceOptions { Signals = [40, 41, 40] }.Validate());
        new SignalSourceOptions { Signals = [35, 64] }.Validate();
    }
}
