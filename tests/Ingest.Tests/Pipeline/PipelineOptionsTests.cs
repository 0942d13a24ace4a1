using Ingest.Pipeline;

namespace Ingest.Tests.Pipeline;

public class PipelineOptionsTests
{
    [Fact]
    public void EdgeCapacity_Defaults_GiveSourcesTheDeepEdgeAndTheRingItsShallowOne()
    {
        var options = new PipelineOptions();

        Assert.Equal(256, options.EdgeCapacityFor("udp", acknowledging: false));
        Assert.Equal(256, options.EdgeCapacityFor("netlink", acknowledging: false));
        Assert.Equal(PipelineOptions.AcknowledgedEdgeCapacity, options.EdgeCapacityFor("ring", acknowledging: true));
    }

    [Fact]
    public void EdgeCapacity_ASmallerSourceEdge_AppliesToTheRingToo()
    {
        var options = new PipelineOptions { SourceEdge = { Capacity = 16 } };

        Assert.Equal(16, options.EdgeCapacityFor("udp", acknowledging: false));
        Assert.Equal(16, options.EdgeCapacityFor("ring", acknowledging: true));
    }

    [Fact]
    public void EdgeCapacity_AChannelEntry_AppliesAsWritten()
    {
        var options = new PipelineOptions();
        options.ChannelEdges["ring"] = new EdgeOptions { Capacity = 512 };
        options.ChannelEdges["udp"] = new EdgeOptions { Capacity = 8 };

        Assert.Equal(512, options.EdgeCapacityFor("ring", acknowledging: true));
        Assert.Equal(8, options.EdgeCapacityFor("udp", acknowledging: false));
        Assert.Equal(256, options.EdgeCapacityFor("signal", acknowledging: false));
    }
}
