namespace Ingest.Transports.Effectors;

/// <summary>One integer argument of an ioctl, with the range the uapi header allows.</summary>
public sealed record IoctlArgument(string Name, long Min, long Max);
