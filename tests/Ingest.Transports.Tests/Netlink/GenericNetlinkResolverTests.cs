using System.Globalization;
using System.Text.RegularExpressions;
using Ingest.Transports.Netlink;

namespace Ingest.Transports.Tests.Netlink;

/// <summary>CTRL_CMD_GETFAMILY against the host kernel, checked against iproute2's `genl`.</summary>
public sealed partial class GenericNetlinkResolverTests
{
    [Fact]
    public void Resolves_nlctrl_and_its_notify_group()
    {
        using var resolver = new GenericNetlinkResolver();
        var family = resolver.Resolve("nlctrl");

        Assert.NotNull(family);
        Assert.Equal("nlctrl", family.Name);
        Assert.Equal(0x10, family.Id); // GENL_ID_CTRL, fixed by the kernel
        Assert.True(family.Version >= 1);
        Assert.Equal(0x10u, family.MulticastGroups["notify"]);
    }

    [Fact]
    public void Returns_null_for_a_family_the_kernel_does_not_have()
    {
        using var resolver = new GenericNetlinkResolver();
        Assert.Null(resolver.Resolve("ingest-absent"));
        Assert.NotNull(resolver.Resolve("nlctrl")); // the socket is still usable afterwards
    }

    [Fact]
    public void Agrees_with_iproute2_genl_on_every_family_it_lists()
    {
        string listing;
        try
        {
            listing = NetnsFixture.Exec("genl", "ctrl list");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Assert.Skip("iproute2's genl is not installed");
            return;
        }

        var families = FamilyBlock().Matches(listing);
        Assert.NotEmpty(families);
        using var resolver = new GenericNetlinkResolver();
        foreach (Match block in families)
        {
            var name = block.Groups["name"].Value;
            var family = resolver.Resolve(name);
            Assert.NotNull(family);
            Assert.Equal(int.Parse(block.Groups["id"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture), family.Id);
            Assert.Equal(uint.Parse(block.Groups["version"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture), family.Version);
            var groups = GroupLine().Matches(block.Value)
                .ToDictionary(g => g.Groups["name"].Value, g => uint.Parse(g.Groups["id"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
            Assert.Equal(groups, family.MulticastGroups);
        }
    }

    [Fact]
    public void Builds_a_getfamily_request_the_kernel_layout_expects()
    {
        var request = GenericNetlinkResolver.BuildGetFamily("nlctrl", 7);
        Assert.Equal(
            [
                32, 0, 0, 0, 0x10, 0, 1, 0, 7, 0, 0, 0, 0, 0, 0, 0, // nlmsghdr: len, GENL_ID_CTRL, NLM_F_REQUEST, seq, pid
                3, 1, 0, 0, // genlmsghdr: CTRL_CMD_GETFAMILY, version 1
                11, 0, 2, 0, (byte)'n', (byte)'l', (byte)'c', (byte)'t', (byte)'r', (byte)'l', 0, 0, // CTRL_ATTR_FAMILY_NAME, padded
            ],
            request);
    }

    [GeneratedRegex(@"Name: (?<name>\S+)\s+ID: 0x(?<id>[0-9a-f]+)\s+Version: 0x(?<version>[0-9a-f]+).*?(?=Name: |\z)", RegexOptions.Singleline)]
    private static partial Regex FamilyBlock();

    [GeneratedRegex(@"ID-0x(?<id>[0-9a-f]+)\s+name: (?<name>\S+)")]
    private static partial Regex GroupLine();
}
