namespace TunTap.Switching;

/// <summary>Why the switch dropped a frame. Ingress reasons are counted on the port the frame came from, egress reasons on the port it was for.</summary>
public enum SwitchDropReason
{
    /// <summary>Shorter than an Ethernet header (14 bytes, 18 with an 802.1Q tag).</summary>
    Runt,

    /// <summary>Longer than <see cref="SwitchOptions.MaxFrameSize"/>.</summary>
    Oversize,

    /// <summary>The source MAC is multicast/broadcast or all zeros, which no station may send from.</summary>
    InvalidSource,

    /// <summary>The frame's VLAN is not allowed on the ingress port (tagged on an access port, untagged on a trunk without a native VLAN, VID 4095).</summary>
    VlanNotAllowed,

    /// <summary>The ingress port is blocked by loop protection.</summary>
    Blocked,

    /// <summary>Addressed to an IEEE 802.1D reserved link-local group (01:80:c2:00:00:00-0f), which bridges never forward.</summary>
    Reserved,

    /// <summary>The egress port's queue was full.</summary>
    QueueFull,

    /// <summary>The egress port had no peer (a QEMU socket with no VM connected) or refused the frame.</summary>
    LinkDown,

    /// <summary>Sent by a mirror destination port, which only listens (<see cref="MirrorSession"/>).</summary>
    MirrorDestination,
}
