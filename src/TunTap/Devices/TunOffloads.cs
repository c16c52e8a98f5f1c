namespace TunTap.Devices;

/// <summary>
/// Offloads a virtio-net-header device accepts (<c>TUNSETOFFLOAD</c>, the kernel's <c>TUN_F_*</c>
/// values): with one set, the kernel may hand the reader packets whose checksum is not filled in
/// or that are larger than the MTU (to be segmented by the reader), as the
/// <see cref="VirtioNetHeader"/> in front of each packet describes.
/// </summary>
[Flags]
public enum TunOffloads
{
    /// <summary>No offloads: every packet read is complete and checksummed.</summary>
    None = 0,

    /// <summary>TUN_F_CSUM: packets may carry a partial checksum (VIRTIO_NET_HDR_F_NEEDS_CSUM).</summary>
    Checksum = 0x01,

    /// <summary>TUN_F_TSO4: IPv4 TCP segmentation offload.</summary>
    Tso4 = 0x02,

    /// <summary>TUN_F_TSO6: IPv6 TCP segmentation offload.</summary>
    Tso6 = 0x04,

    /// <summary>TUN_F_TSO_ECN: TSO with ECN bits set.</summary>
    TsoEcn = 0x08,

    /// <summary>TUN_F_UFO: UDP fragmentation offload (legacy).</summary>
    Ufo = 0x10,

    /// <summary>TUN_F_USO4: IPv4 UDP segmentation offload (Linux 6.2 and later).</summary>
    Uso4 = 0x20,

    /// <summary>TUN_F_USO6: IPv6 UDP segmentation offload (Linux 6.2 and later).</summary>
    Uso6 = 0x40,
}
