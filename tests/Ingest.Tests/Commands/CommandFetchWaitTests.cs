using Ingest.Commands;

namespace Ingest.Tests.Commands;

/// <summary>The command reader's fetch wait: idle fetch load per host versus latency on the mock broker.</summary>
public sealed class CommandFetchWaitTests
{
    [Fact]
    public void The_default_is_librdkafkas_500_ms_and_10_ms_on_the_in_process_embedded_broker()
    {
        var options = new CommandOptions();
        Assert.Equal(500, options.ResolveFetchWaitMaxMs(embeddedBroker: false));
        Assert.Equal(10, options.ResolveFetchWaitMaxMs(embeddedBroker: true));
    }

    [Fact]
    public void A_configured_wait_wins_on_any_broker()
    {
        var options = new CommandOptions { FetchWaitMaxMs = 5000 };
        Assert.Equal(5000, options.ResolveFetchWaitMaxMs(embeddedBroker: false));
        Assert.Equal(5000, options.ResolveFetchWaitMaxMs(embeddedBroker: true));
        options.Validate();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(60_001)]
    public void An_out_of_range_wait_is_a_configuration_error_naming_the_key(int wait)
    {
        var options = new CommandOptions { FetchWaitMaxMs = wait };
        var e = Assert.Throws<ConfigurationException>(options.Validate);
        Assert.Contains("Commands:FetchWaitMaxMs", e.Message, StringComparison.Ordinal);
    }
}
