namespace TunTap.Wire;

/// <summary>TCP option kinds (IANA registry).</summary>
public static class TcpOptionKind
{
    /// <summary>End of option list.</summary>
    public const byte EndOfList = 0;

    /// <summary>No-operation (padding).</summary>
    public const byte NoOperation = 1;

    /// <summary>Maximum segment size (2 data bytes).</summary>
    public const byte MaximumSegmentSize = 2;

    /// <summary>Window scale shift count (1 data byte).</summary>
    public const byte WindowScale = 3;

    /// <summary>SACK permitted (no data).</summary>
    public const byte SackPermitted = 4;

    /// <summary>SACK blocks.</summary>
    public const byte Sack = 5;

    /// <summary>Timestamps (8 data bytes: value, echo reply).</summary>
    public const byte Timestamps = 8;
}
