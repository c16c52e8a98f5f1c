namespace TunTap.Capture;

/// <summary>The link-layer header type of a pcap file (tcpdump.org LINKTYPE_* values).</summary>
public enum PcapLinkType : uint
{
    /// <summary>LINKTYPE_ETHERNET: Ethernet frames, as a TAP device carries them.</summary>
    Ethernet = 1,

    /// <summary>LINKTYPE_RAW: raw IPv4/IPv6 packets (version nibble decides), as a TUN device carries them.</summary>
    Raw = 101,
}
