using System.Net;
using TunTap.Devices;

namespace TunTap.Tunnel;

/// <summary>How a <see cref="TunnelEndpoint"/> runs: one of <see cref="Listen"/> or <see cref="Connect"/>.</summary>
public sealed record TunnelOptions
{
    /// <summary>Bytes a TAP frame may carry beyond the MTU: Ethernet header plus one VLAN tag.</summary>
    public const int TapOverhead = 18;

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

    /// <summary>The largest packet the tunnel carries: the MTU for TUN, MTU plus <see cref="TapOverhead"/> for TAP.</summary>
    public int MaxPacketSize => Mode == DeviceMode.Tap ? Mtu + TapOverhead : Mtu;

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
    }
}
