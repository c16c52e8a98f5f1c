namespace TunTap.Devices;

/// <summary>The <c>flags</c> byte of a <see cref="VirtioNetHeader"/> (<c>VIRTIO_NET_HDR_F_*</c>).</summary>
[Flags]
public enum VirtioNetHeaderFlags : byte
{
    /// <summary>The packet is complete.</summary>
    None = 0,

    /// <summary>VIRTIO_NET_HDR_F_NEEDS_CSUM: checksum from ChecksumStart, store at ChecksumStart + ChecksumOffset.</summary>
    NeedsChecksum = 1,

    /// <summary>VIRTIO_NET_HDR_F_DATA_VALID: the checksum has been verified.</summary>
    DataValid = 2,

    /// <summary>VIRTIO_NET_HDR_F_RSC_INFO: the checksum fields carry receive-coalescing info.</summary>
    RscInfo = 4,
}
