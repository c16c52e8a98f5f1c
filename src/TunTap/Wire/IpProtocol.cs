namespace TunTap.Wire;

/// <summary>IP protocol numbers (IPv4 Protocol, IPv6 Next Header), IANA registry.</summary>
public static class IpProtocol
{
    /// <summary>IPv6 Hop-by-Hop Options extension header.</summary>
    public const byte HopByHop = 0;

    /// <summary>Internet Control Message Protocol (IPv4).</summary>
    public const byte Icmp = 1;

    /// <summary>Transmission Control Protocol.</summary>
    public const byte Tcp = 6;

    /// <summary>User Datagram Protocol.</summary>
    public const byte Udp = 17;

    /// <summary>IPv6 Routing extension header.</summary>
    public const byte Routing = 43;

    /// <summary>IPv6 Fragment extension header.</summary>
    public const byte Fragment = 44;

    /// <summary>Internet Control Message Protocol for IPv6.</summary>
    public const byte IcmpV6 = 58;

    /// <summary>IPv6 No Next Header.</summary>
    public const byte NoNextHeader = 59;

    /// <summary>IPv6 Destination Options extension header.</summary>
    public const byte DestinationOptions = 60;
}
