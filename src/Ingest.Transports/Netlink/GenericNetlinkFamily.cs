using System.Text;
using Ingest.Transports.Interop;

namespace Ingest.Transports.Netlink;

/// <summary>A generic netlink family as the controller (nlctrl) describes it.</summary>
public sealed record GenericNetlinkFamily(
    string Name,
    ushort Id,
    uint Version,
    uint HeaderSize,
    uint MaxAttribute,
    IReadOnlyDictionary<string, uint> MulticastGroups)
{
    /// <summary>
    /// Parses the attributes of a CTRL_CMD_NEWFAMILY message (a GETFAMILY reply or a
    /// notification). False when they are malformed or lack the family's name or id.
    /// </summary>
    internal static bool TryParse(ReadOnlySpan<byte> attributes, out GenericNetlinkFamily? family)
    {
        family = null;
        string? name = null;
        ushort id = 0;
        uint version = 0, headerSize = 0, maxAttribute = 0;
        var groups = new Dictionary<string, uint>(StringComparer.Ordinal);
        var reader = new NetlinkAttributeReader(attributes);
        while (reader.TryRead(out var attribute))
        {
            switch (attribute.Type)
            {
                case Sys.CTRL_ATTR_FAMILY_NAME:
                    name = Encoding.UTF8.GetString(attribute.GetCString());
                    break;
                case Sys.CTRL_ATTR_FAMILY_ID when !attribute.TryGetUInt16(out id):
                case Sys.CTRL_ATTR_VERSION when !attribute.TryGetUInt32(out version):
                case Sys.CTRL_ATTR_HDRSIZE when !attribute.TryGetUInt32(out headerSize):
                case Sys.CTRL_ATTR_MAXATTR when !attribute.TryGetUInt32(out maxAttribute):
                    return false;
                case Sys.CTRL_ATTR_MCAST_GROUPS when !TryParseGroups(attribute.Nested, groups):
                    return false;
            }
        }

        if (reader.IsMalformed || name is null || id == 0)
        {
            return false;
        }

        family = new GenericNetlinkFamily(name, id, version, headerSize, maxAttribute, groups);
        return true;
    }

    /// <summary>
    /// Reads only CTRL_ATTR_FAMILY_NAME, without allocating: notifications for other families
    /// are common and skipped by name.
    /// </summary>
    internal static ReadOnlySpan<byte> FindName(ReadOnlySpan<byte> attributes)
    {
        var reader = new NetlinkAttributeReader(attributes);
        while (reader.TryRead(out var attribute))
        {
            if (attribute.Type == Sys.CTRL_ATTR_FAMILY_NAME)
            {
                return attribute.GetCString();
            }
        }

        return default;
    }

    // CTRL_ATTR_MCAST_GROUPS nests one attribute per group (numbered from 1), each nesting
    // CTRL_ATTR_MCAST_GRP_NAME and CTRL_ATTR_MCAST_GRP_ID.
    private static bool TryParseGroups(NetlinkAttributeReader entries, Dictionary<string, uint> groups)
    {
        while (entries.TryRead(out var entry))
        {
            string? name = null;
            uint? id = null;
            var fields = entry.Nested;
            while (fields.TryRead(out var field))
            {
                if (field.Type == Sys.CTRL_ATTR_MCAST_GRP_NAME)
                {
                    name = Encoding.UTF8.GetString(field.GetCString());
                }
                else if (field.Type == Sys.CTRL_ATTR_MCAST_GRP_ID)
                {
                    if (!field.TryGetUInt32(out var value))
                    {
                        return false;
                    }

                    id = value;
                }
            }

            if (fields.IsMalformed || name is null || id is null)
            {
                return false;
            }

            groups[name] = id.Value;
        }

        return !entries.IsMalformed;
    }
}
