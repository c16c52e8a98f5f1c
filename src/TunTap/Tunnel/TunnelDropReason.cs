namespace TunTap.Tunnel;

/// <summary>Why a tunnel dropped a packet (or a frame) instead of delivering it.</summary>
public enum TunnelDropReason
{
    /// <summary>Read from the device while no peer was connected.</summary>
    LinkDown,

    /// <summary>Larger than the tunnel's maximum packet (MTU plus link header) or a length prefix above it.</summary>
    Oversize,

    /// <summary>A frame from the peer that does not parse: unknown type or flags, bad length, truncated.</summary>
    Malformed,

    /// <summary>A compressed frame that does not decompress into a packet of allowed size.</summary>
    Decompress,

    /// <summary>A UDP datagram from an address that is not the current peer.</summary>
    UnknownPeer,

    /// <summary>The device refused the packet on write.</summary>
    DeviceRejected,
}
