namespace TunTap.Switching;

/// <summary>Why a <see cref="VxlanPort"/> dropped a datagram or a frame before or after the switch saw it.</summary>
public enum VxlanDropReason
{
    /// <summary>A datagram shorter than the 8-byte VXLAN header.</summary>
    Truncated,

    /// <summary>The I flag was clear: not a VXLAN datagram with a valid VNI.</summary>
    NoVniFlag,

    /// <summary>A VXLAN datagram for another VNI.</summary>
    WrongVni,

    /// <summary>The frame inside was shorter than an Ethernet header (14 bytes).</summary>
    Runt,

    /// <summary>The socket reported an error on receive (the datagram is lost).</summary>
    ReceiveError,

    /// <summary>A frame could not be sent (no route to the remote, send buffer full...).</summary>
    SendError,
}
