namespace TunTap.Wire;

/// <summary>ICMPv6 message types, RFC 4443 and RFC 4861.</summary>
public static class IcmpV6Type
{
    /// <summary>Destination unreachable.</summary>
    public const byte DestinationUnreachable = 1;

    /// <summary>Packet too big.</summary>
    public const byte PacketTooBig = 2;

    /// <summary>Time exceeded.</summary>
    public const byte TimeExceeded = 3;

    /// <summary>Echo request.</summary>
    public const byte EchoRequest = 128;

    /// <summary>Echo reply.</summary>
    public const byte EchoReply = 129;

    /// <summary>Router solicitation.</summary>
    public const byte RouterSolicitation = 133;

    /// <summary>Router advertisement.</summary>
    public const byte RouterAdvertisement = 134;

    /// <summary>Neighbor solicitation.</summary>
    public const byte NeighborSolicitation = 135;

    /// <summary>Neighbor advertisement.</summary>
    public const byte NeighborAdvertisement = 136;

    /// <summary>Multicast listener report, version 2 (RFC 3810).</summary>
    public const byte MulticastListenerReportV2 = 143;
}
