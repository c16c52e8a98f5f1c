namespace TunTap.Tunnel;

/// <summary>Per-frame flags (the second header byte).</summary>
[Flags]
public enum TunnelFrameFlags : byte
{
    /// <summary>The payload is the packet as it is.</summary>
    None = 0,

    /// <summary>The payload is the packet compressed by <see cref="PacketCompressor"/>.</summary>
    Compressed = 1,

    /// <summary>
    /// The header is <see cref="TunnelFrame.LongHeaderSize"/> bytes: a 32-bit length follows
    /// (protocol version 2).
    /// </summary>
    LongLength = 2,

    /// <summary>
    /// The packet starts with a 10-byte <see cref="Devices.VirtioNetHeader"/> and may be a super
    /// packet (TCP segmentation offload) of up to 64 KiB; sent only to a peer whose hello offered
    /// offloads (protocol version 2).
    /// </summary>
    VnetHeader = 4,

    /// <summary>
    /// The packet is a TCP segment whose checksum field holds only the pseudo-header sum (as the
    /// kernel leaves a CHECKSUM_PARTIAL packet); the receiver writes it to its device with
    /// <see cref="Devices.VirtioNetHeaderFlags.NeedsChecksum"/> so the kernel completes or skips
    /// it. Sent over UDP only to a peer whose hello offered offloads (it has a virtio-net header
    /// device); the outer UDP checksum covers the bytes on the wire.
    /// </summary>
    PartialChecksum = 8,
}
