namespace TunTap.Switching.Dhcp;

/// <summary>Why a datagram sent to the DHCP server port was not answered.</summary>
public enum DhcpDropReason
{
    /// <summary>The IPv4 or UDP header is invalid (length, checksum, fragment).</summary>
    BadIpOrUdp,

    /// <summary>Too short for a DHCP message, no magic cookie (plain BOOTP), or options running past the end.</summary>
    Malformed,

    /// <summary>Not a BOOTREQUEST.</summary>
    NotRequest,

    /// <summary>Not an Ethernet hardware address (htype 1, hlen 6, unicast).</summary>
    BadHardwareAddress,

    /// <summary>Option 53 missing, unknown, or a type only servers send.</summary>
    BadMessageType,

    /// <summary>Sent through a relay agent (giaddr set): this server serves its own segment only.</summary>
    Relayed,

    /// <summary>The client chose another server (server identifier not ours).</summary>
    OtherServer,

    /// <summary>A DISCOVER found no free address.</summary>
    PoolExhausted,

    /// <summary>A REQUEST, RELEASE, DECLINE or INFORM without the address it is about.</summary>
    NoAddress,

    /// <summary>A RELEASE or DECLINE of a lease the client does not hold.</summary>
    NoLease,

    /// <summary>The reply does not fit the frame buffer.</summary>
    NoRoom,
}
