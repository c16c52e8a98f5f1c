namespace TunTap.Switching.Dhcp;

/// <summary>The DHCP message type, option 53 (RFC 2132 section 9.6).</summary>
public enum DhcpMessageType : byte
{
    /// <summary>Not a DHCP message type (option 53 missing).</summary>
    None = 0,

    /// <summary>A client looks for servers.</summary>
    Discover = 1,

    /// <summary>A server offers an address.</summary>
    Offer = 2,

    /// <summary>A client asks for the offered address, or confirms or extends its lease.</summary>
    Request = 3,

    /// <summary>A client found the address already in use.</summary>
    Decline = 4,

    /// <summary>A server grants the address (or, after an INFORM, only parameters).</summary>
    Ack = 5,

    /// <summary>A server refuses the request (the client's idea of its address is wrong).</summary>
    Nak = 6,

    /// <summary>A client gives its address back.</summary>
    Release = 7,

    /// <summary>A client with an address configured otherwise asks only for parameters.</summary>
    Inform = 8,
}
