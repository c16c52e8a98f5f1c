namespace TunTap.Devices;

/// <summary>The <c>gso_type</c> byte of a <see cref="VirtioNetHeader"/> (<c>VIRTIO_NET_HDR_GSO_*</c>).</summary>
[Flags]
public enum VirtioGsoType : byte
{
    /// <summary>VIRTIO_NET_HDR_GSO_NONE: not a segmentation-offload packet.</summary>
    None = 0,

    /// <summary>VIRTIO_NET_HDR_GSO_TCPV4: IPv4 TCP, to be cut into GsoSize segments.</summary>
    TcpV4 = 1,

    /// <summary>VIRTIO_NET_HDR_GSO_UDP: IPv4 UDP fragmentation (UFO).</summary>
    Udp = 3,

    /// <summary>VIRTIO_NET_HDR_GSO_TCPV6: IPv6 TCP.</summary>
    TcpV6 = 4,

    /// <summary>VIRTIO_NET_HDR_GSO_UDP_L4: UDP segmentation (USO), IPv4 or IPv6.</summary>
    UdpL4 = 5,

    /// <summary>VIRTIO_NET_HDR_GSO_ECN: flag bit, the TCP packet has ECN set.</summary>
    Ecn = 0x80,
}
