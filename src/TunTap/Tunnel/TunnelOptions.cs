using System.Net;
using TunTap.Devices;

namespace TunTap.Tunnel;

/// <summary>How a <see cref="TunnelEndpoint"/> runs: one of <see cref="Listen"/> or <see cref="Connect"/>.</summary>
public sealed record TunnelOptions
{
    /// <summary>Bytes a TAP frame may carry beyond the MTU: Ethernet header plus one VLAN tag.</summary>
    public const int TapOverhead = 18;

    /// <summary>
    /// The largest super packet a device with offloads hands over (the kernel's default
    /// <c>gso_max_size</c> of 64 KiB, plus a TAP frame's link header), virtio-net header not included.
    /// </summary>
    public const int MaxSuperPacketSize = 65_536 + TapOverhead;

    /// <summary>
    /// The offloads to open a device with for <see cref="VnetHeader"/>: partial checksums and TCP
    /// segmentation offload for IPv4 and IPv6 (with ECN). UDP segmentation offload is not asked
    /// for: the tunnel cuts only TCP super packets.
    /// </summary>
    public const TunOffloads DeviceOffloads = TunOffloads.Checksum | TunOffloads.Tso4 | TunOffloads.Tso6 | TunOffloads.TsoEcn;

    /// <summary>TUN or TAP; both ends must agree.</summary>
    public DeviceMode Mode { get; init; } = DeviceMode.Tun;

    /// <summary>The device MTU; both ends must agree.</summary>
    public int Mtu { get; init; } = 1500;

    /// <summary>TCP or UDP.</summary>
    public TunnelTransport Transport { get; init; } = TunnelTransport.Tcp;

    /// <summary>Server: the local address and port to listen on (port 0 picks one, see <see cref="TunnelEndpoint.Listening"/>).</summary>
    public IPEndPoint? Listen { get; init; }

    /// <summary>Client: the server's host name or address and port.</summary>
    public DnsEndPoint? Connect { get; init; }

    /// <summary>Per-packet compression; both ends must agree.</summary>
    public bool Compress { get; init; }

    /// <summary>First reconnect delay (upper bound; jittered).</summary>
    public TimeSpan MinBackoff { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Largest reconnect delay.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// UDP client: how often to repeat the hello, so that a restarted server learns of this client
    /// without waiting for it to reconnect. Zero or less turns it off. 2 s by default.
    /// </summary>
    public TimeSpan KeepaliveInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a new peer has to complete the hello.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Named network namespace (as in <c>ip netns</c>) whose network stack the tunnel's sockets use,
    /// or null for the caller's. The device may live elsewhere.
    /// </summary>
    public string? Netns { get; init; }

    /// <summary>Seed for the reconnect jitter.</summary>
    public int Seed { get; init; }

    /// <summary>Packets per device read or write batch.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>
    /// With <see cref="VnetHeader"/>, the bytes a device batch may take (every slot must hold a
    /// super packet, so the batch has fewer slots than <see cref="BatchSize"/>); 1 MiB by default.
    /// </summary>
    public int BatchBytes { get; init; } = 1 << 20;

    /// <summary>
    /// The device was opened with a virtio-net header (<see cref="TunDeviceOptions.VnetHeader"/>,
    /// with <see cref="DeviceOffloads"/>): every packet read and written starts with a
    /// <see cref="VirtioNetHeader"/>, and the kernel hands over TCP super packets of up to 64 KiB.
    /// Over TCP, to a peer that does the same, super packets travel whole in one frame; otherwise
    /// (UDP, or a peer without offloads) they are cut into MTU-sized packets here. Must match the
    /// device; the peer need not have it.
    /// </summary>
    public bool VnetHeader { get; init; }

    /// <summary>
    /// The TCP transport's congestion control (a name from
    /// <c>/proc/sys/net/ipv4/tcp_available_congestion_control</c>), or null for the kernel's
    /// default. cubic by default: the flows inside the tunnel run their own congestion control and
    /// pacing, and a pacing algorithm on the outer connection (bbr, often the system default)
    /// only adds timers and delay: cubic measured 15% faster than bbr (bench/tunnel.sh, and
    /// bench/tunnel.sh --tuntap-options "--congestion-control bbr" in the same minutes). When the
    /// kernel refuses the name (not loaded, or not allowed without CAP_NET_ADMIN), the connection
    /// keeps the default and the endpoint logs it once.
    /// </summary>
    public string? CongestionControl { get; init; } = DefaultCongestionControl;

    /// <summary>The congestion control the TCP transport asks for unless told otherwise.</summary>
    public const string DefaultCongestionControl = "cubic";

    /// <summary>The largest packet the tunnel carries: the MTU for TUN, MTU plus <see cref="TapOverhead"/> for TAP.</summary>
    public int MaxPacketSize => Mode == DeviceMode.Tap ? Mtu + TapOverhead : Mtu;

    /// <summary>
    /// The <c>gso_max_segs</c> the device should have (<see cref="DeviceProvisioning.GsoMaxSegments"/>),
    /// or null for the kernel's default. Over UDP with offloads: as many segments as one UDP GSO
    /// send carries (44 at the default MTUs), so that each super packet the kernel hands over
    /// leaves in one <c>sendmsg</c>, arrives in one receive and goes to the far device in one
    /// write; a 45-segment super packet (the kernel's size at 64 KiB) took two of each, the second
    /// for one segment. Over TCP super packets cross whole, so the default stays.
    /// </summary>
    public int? DeviceGsoMaxSegments => Transport == TunnelTransport.Udp && VnetHeader
        ? UdpPeerLink.SegmentsPerSend(TunnelFrame.HeaderSize + MaxPacketSize)
        : null;

    /// <summary>The largest thing read from or written to the device: a packet, or a virtio-net header and a super packet.</summary>
    internal int DevicePacketSize => VnetHeader ? VirtioNetHeader.Size + MaxSuperPacketSize : MaxPacketSize;

    /// <summary>Slots per device batch: <see cref="BatchSize"/>, fewer when slots hold super packets.</summary>
    internal int DeviceBatchSize => VnetHeader ? Math.Clamp(BatchBytes / DevicePacketSize, 1, BatchSize) : BatchSize;

    /// <summary>Throws <see cref="TunTapException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if ((Listen is null) == (Connect is null))
        {
            throw new TunTapException("a tunnel needs exactly one of listen or connect", "give --listen [ADDR:]PORT on one host and --connect HOST:PORT on the other");
        }

        if (Mtu < 68 || MaxPacketSize > TunnelFrame.MaxPayloadLimit)
        {
            throw new TunTapException($"MTU {Mtu} is out of range", $"use an MTU from 68 to {TunnelFrame.MaxPayloadLimit - (Mode == DeviceMode.Tap ? TapOverhead : 0)}");
        }

        if (MinBackoff <= TimeSpan.Zero || MaxBackoff < MinBackoff)
        {
            throw new TunTapException($"backoff {MinBackoff}..{MaxBackoff} is invalid", "the minimum must be positive and not above the maximum");
        }

        if (HandshakeTimeout <= TimeSpan.Zero)
        {
            throw new TunTapException("the handshake timeout must be positive");
        }

        if (BatchSize < 1)
        {
            throw new TunTapException($"batch size {BatchSize} is invalid", "use at least 1");
        }

        if (BatchBytes < 1)
        {
            throw new TunTapException($"batch bytes {BatchBytes} is invalid", "use at least 1");
        }

        if (CongestionControl is { } name && !IsCongestionControlName(name))
        {
            throw new TunTapException($"congestion control '{name}' is not a valid name", "use a name from /proc/sys/net/ipv4/tcp_available_congestion_control (1-15 letters, digits or '_'), e.g. cubic");
        }
    }

    private static bool IsCongestionControlName(string name)
    {
        // TCP_CA_NAME_MAX is 16 with the terminating zero.
        if (name.Length is < 1 or > 15)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_')
            {
                return false;
            }
        }

        return true;
    }
}
