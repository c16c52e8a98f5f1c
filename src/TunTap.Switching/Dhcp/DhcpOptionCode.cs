namespace TunTap.Switching.Dhcp;

/// <summary>The DHCP option codes this server reads or writes (RFC 2132).</summary>
public static class DhcpOptionCode
{
    /// <summary>Padding, one byte with no length.</summary>
    public const byte Pad = 0;

    /// <summary>Subnet mask (4 bytes).</summary>
    public const byte SubnetMask = 1;

    /// <summary>Routers, the first being the default gateway (4 bytes each).</summary>
    public const byte Router = 3;

    /// <summary>DNS servers (4 bytes each).</summary>
    public const byte DomainNameServer = 6;

    /// <summary>The client's host name.</summary>
    public const byte HostName = 12;

    /// <summary>The address the client asks for (4 bytes).</summary>
    public const byte RequestedAddress = 50;

    /// <summary>Lease time in seconds (4 bytes).</summary>
    public const byte LeaseTime = 51;

    /// <summary>Option overload: the sname/file fields hold options (1 byte).</summary>
    public const byte OptionOverload = 52;

    /// <summary>DHCP message type (1 byte, see <see cref="DhcpMessageType"/>).</summary>
    public const byte MessageType = 53;

    /// <summary>Server identifier: the server's address (4 bytes).</summary>
    public const byte ServerIdentifier = 54;

    /// <summary>Parameter request list.</summary>
    public const byte ParameterRequestList = 55;

    /// <summary>A text message, e.g. why a request was refused.</summary>
    public const byte Message = 56;

    /// <summary>Renewal (T1) time in seconds (4 bytes).</summary>
    public const byte RenewalTime = 58;

    /// <summary>Rebinding (T2) time in seconds (4 bytes).</summary>
    public const byte RebindingTime = 59;

    /// <summary>Client identifier.</summary>
    public const byte ClientIdentifier = 61;

    /// <summary>End of the options, one byte with no length.</summary>
    public const byte End = 255;
}
