using System.Buffers.Binary;
using System.Net;
using Microsoft.Extensions.Time.Testing;
using TunTap.Devices;
using TunTap.TestKit;
using TunTap.WireGuard;

namespace TunTap.Tests.WireGuard;

/// <summary>
/// Two of our WireGuard devices over real UDP sockets on 127.0.0.1, each with an in-memory TUN:
/// "A" is 10.0.0.1 / fd00::1 and knows B's endpoint, "B" is 10.0.0.2 / fd00::2 and waits to be
/// contacted. Both run on one fake clock, so timers move only when a test advances it.
/// </summary>
internal sealed class DevicePair : IAsyncDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private DevicePair(FakeTimeProvider time, ChannelTun tunA, ChannelTun tunB, UdpSocketTransport udpA, UdpSocketTransport udpB, WireGuardDevice a, WireGuardDevice b)
    {
        Time = time;
        TunA = tunA;
        TunB = tunB;
        UdpA = udpA;
        UdpB = udpB;
        A = a;
        B = b;
    }

    public FakeTimeProvider Time { get; }

    public ChannelTun TunA { get; }

    public ChannelTun TunB { get; }

    public UdpSocketTransport UdpA { get; }

    public UdpSocketTransport UdpB { get; }

    public WireGuardDevice A { get; }

    public WireGuardDevice B { get; }

    public WireGuardPeer PeerBAtA => A.GetPeers()[0];

    public WireGuardPeer PeerAAtB => B.GetPeers()[0];

    public static DevicePair Create(int cookieThresholdAtB = 1000, WireGuardKey psk = default, WireGuardKey? pskAtB = null, bool vnetHeader = false, bool parallelEncryption = false)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddDays(20000));
        var keyA = WireGuardKey.GeneratePrivateKey();
        var keyB = WireGuardKey.GeneratePrivateKey();
        var tunA = new ChannelTun("wga", DeviceMode.Tun);
        var tunB = new ChannelTun("wgb", DeviceMode.Tun);
        var udpA = UdpSocketTransport.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var udpB = UdpSocketTransport.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var a = new WireGuardDevice(tunA, udpA, new WireGuardDeviceOptions { PrivateKey = keyA, TimeProvider = time, JitterSeed = 1, VnetHeader = vnetHeader, ParallelEncryption = parallelEncryption });
        var b = new WireGuardDevice(tunB, udpB, new WireGuardDeviceOptions { PrivateKey = keyB, TimeProvider = time, JitterSeed = 2, HandshakesPerSecondBeforeCookies = cookieThresholdAtB, VnetHeader = vnetHeader, ParallelEncryption = parallelEncryption });
        a.AddPeer(new WireGuardPeerOptions
        {
            PublicKey = b.PublicKey,
            PresharedKey = psk,
            Endpoint = new IPEndPoint(IPAddress.Loopback, udpB.Port),
            AllowedIps = [IPNetwork.Parse("10.0.0.2/32"), IPNetwork.Parse("fd00::2/128"), IPNetwork.Parse("10.9.0.1/32")],
        });
        b.AddPeer(new WireGuardPeerOptions
        {
            PublicKey = a.PublicKey,
            PresharedKey = pskAtB ?? psk,
            AllowedIps = [IPNetwork.Parse("10.0.0.1/32"), IPNetwork.Parse("fd00::1/128"), IPNetwork.Parse("10.9.0.2/32")],
        });
        a.Start();
        b.Start();
        return new DevicePair(time, tunA, tunB, udpA, udpB, a, b);
    }

    public async ValueTask DisposeAsync()
    {
        await A.DisposeAsync();
        await B.DisposeAsync();
        await TunA.DisposeAsync();
        await TunB.DisposeAsync();
        await UdpA.DisposeAsync();
        await UdpB.DisposeAsync();
    }

    /// <summary>An IPv4 packet (protocol 253, "experimental") with <paramref name="payloadLength"/> bytes numbered from <paramref name="seed"/>.</summary>
    public static byte[] Ipv4(string source, string destination, int payloadLength, byte seed = 0)
    {
        var packet = new byte[20 + payloadLength];
        packet[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)packet.Length);
        packet[8] = 64;
        packet[9] = 253;
        IPAddress.Parse(source).TryWriteBytes(packet.AsSpan(12), out _);
        IPAddress.Parse(destination).TryWriteBytes(packet.AsSpan(16), out _);
        for (var i = 0; i < payloadLength; i++)
        {
            packet[20 + i] = (byte)(seed + i);
        }

        return packet;
    }

    /// <summary>An IPv6 packet (next header 253) with <paramref name="payloadLength"/> bytes.</summary>
    public static byte[] Ipv6(string source, string destination, int payloadLength)
    {
        var packet = new byte[40 + payloadLength];
        packet[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), (ushort)payloadLength);
        packet[6] = 253;
        packet[7] = 64;
        IPAddress.Parse(source).TryWriteBytes(packet.AsSpan(8), out _);
        IPAddress.Parse(destination).TryWriteBytes(packet.AsSpan(24), out _);
        for (var i = 0; i < payloadLength; i++)
        {
            packet[40 + i] = (byte)i;
        }

        return packet;
    }
}
