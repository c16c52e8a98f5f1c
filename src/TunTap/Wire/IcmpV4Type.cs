namespace TunTap.Wire;

/// <summary>ICMP (IPv4) message types, RFC 792.</summary>
public static class IcmpV4Type
{
    /// <summary>Echo reply.</summary>
    public const byte EchoReply = 0;

    /// <summary>Destination unreachable.</summary>
    public const byte DestinationUnreachable = 3;

    /// <summary>Echo request.</summary>
    public const byte EchoRequest = 8;

    /// <summary>Time exceeded.</summary>
    public const byte TimeExceeded = 11;
}
