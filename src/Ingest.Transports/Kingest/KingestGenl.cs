namespace Ingest.Transports.Kingest;

/// <summary>Generic netlink family "kingest": names, commands and attributes.</summary>
public static class KingestGenl
{
    public const string FamilyName = "kingest";
    public const byte Version = 1;
    public const string EventsGroup = "events";

    // enum kingest_genl_cmd
    public const byte CmdUnspec = 0;
    public const byte CmdEvent = 1;
    public const byte CmdGetStats = 2;
    public const byte CmdMax = 2;

    // enum kingest_genl_attr
    public const ushort AttrUnspec = 0;
    public const ushort AttrType = 1;
    public const ushort AttrSeq = 2;
    public const ushort AttrTimestampNs = 3;
    public const ushort AttrPayload = 4;
    public const ushort AttrChannel = 5;
    public const ushort AttrStats = 6;
    public const ushort AttrPad = 7;
    public const ushort AttrMax = 7;

    // enum kingest_genl_stat_attr
    public const ushort StatUnspec = 0;
    public const ushort StatChannel = 1;
    public const ushort StatEmitted = 2;
    public const ushort StatDropped = 3;
    public const ushort StatErrors = 4;
    public const ushort StatPad = 5;
    public const ushort StatMax = 5;
}
