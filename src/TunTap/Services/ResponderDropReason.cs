namespace TunTap.Services;

/// <summary>Why <see cref="PacketResponder"/> dropped a packet. Names are short: they are printed as <c>dropped NAME</c>.</summary>
public enum ResponderDropReason
{
    /// <summary>The packet ends before a header or a length it announces.</summary>
    Truncated,

    /// <summary>A header field is impossible (version, header length, option length, NDP hop limit...).</summary>
    Malformed,

    /// <summary>An IPv4 header, ICMP, ICMPv6 or UDP checksum is wrong.</summary>
    BadChecksum,

    /// <summary>The reply would not fit the reply buffer.</summary>
    ReplyTooLarge,
}
