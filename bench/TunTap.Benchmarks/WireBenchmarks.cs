using BenchmarkDotNet.Attributes;
using TunTap.Devices;
using TunTap.Services;
using TunTap.Wire;

namespace TunTap.Benchmarks;

/// <summary>Parsing and checksum verification through the Wire views, and a responder echo.</summary>
[MemoryDiagnoser]
public class WireBenchmarks
{
    private static readonly MacAddress Peer = MacAddress.FromValue(0x02_11_22_33_44_55);
    private static readonly MacAddress Self = MacAddress.FromValue(0x02_AA_BB_CC_DD_EE);
    private static readonly byte[] V6A = System.Net.IPAddress.Parse("fd00:9::1").GetAddressBytes();
    private static readonly byte[] V6B = System.Net.IPAddress.Parse("fd00:9::2").GetAddressBytes();

    private readonly byte[] _reply = new byte[2048];
    private byte[] _udpFrame = [];
    private byte[] _tcpPacket = [];
    private byte[] _echoFrame = [];
    private PacketResponder _responder = null!;

    /// <summary>Size of the Ethernet frame (UDP) or IPv6 packet (TCP).</summary>
    [Params(64, 1500)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _udpFrame = new byte[Size];
        EthernetFrame.WriteHeader(_udpFrame, Self, Peer, EtherType.Ipv4);
        var ip = Ipv4Packet.WriteHeader(_udpFrame.AsSpan(14), 0x0A09_0001, 0x0A09_0002, IpProtocol.Udp, Size - 14 - 20);
        var udp = UdpDatagram.WriteHeader(ip.Payload, 5000, 7, Size - 14 - 28);
        udp.Payload.Fill(0x5A);
        udp.FillChecksum(udp.PseudoHeaderSum(ip.Source, ip.Destination));

        _tcpPacket = new byte[Size];
        var ip6 = Ipv6Packet.WriteHeader(_tcpPacket, V6A, V6B, IpProtocol.Tcp, Size - 40);
        byte[] options = [2, 4, 5, 0xB4];
        var tcp = TcpSegment.WriteHeader(ip6.Payload, 40000, 443, 1, 2, TcpFlags.Ack, 1000, options, Size - 40 - 24);
        tcp.Payload.Fill(0x33);
        tcp.FillChecksum(ip6.PseudoHeaderSum(IpProtocol.Tcp, tcp.Buffer.Length));

        _echoFrame = new byte[Size];
        EthernetFrame.WriteHeader(_echoFrame, Self, Peer, EtherType.Ipv4);
        var ipEcho = Ipv4Packet.WriteHeader(_echoFrame.AsSpan(14), 0x0A09_0001, 0x0A09_0002, IpProtocol.Icmp, Size - 14 - 20);
        IcmpV4Packet.WriteEcho(ipEcho.Payload, IcmpV4Type.EchoRequest, 1, 1, new byte[Size - 14 - 28]);

        _responder = new PacketResponder(DeviceMode.Tap, [InterfaceAddress.Parse("10.9.0.1/24")], Self.ToPhysicalAddress());
    }

    [Benchmark]
    public int Ethernet_Ipv4_Udp_parse_and_verify()
    {
        ReadOnlySpan<byte> bytes = _udpFrame;
        if (!EthernetFrame.TryCreate(bytes, out var frame) || !Ipv4Packet.TryCreate(frame.ReadOnlyPayload, out var ip) || !ip.VerifyHeaderChecksum() ||
            !UdpDatagram.TryCreate(ip.ReadOnlyPayload, out var udp) || !udp.VerifyChecksum(udp.PseudoHeaderSum(ip.Source, ip.Destination)))
        {
            throw new InvalidOperationException("benchmark packet did not verify");
        }

        return udp.DestinationPort;
    }

    [Benchmark]
    public int Ipv6_Tcp_parse_and_verify()
    {
        ReadOnlySpan<byte> bytes = _tcpPacket;
        if (!Ipv6Packet.TryCreate(bytes, out var ip) || !ip.TryGetUpperLayer(out var protocol, out var offset) ||
            !TcpSegment.TryCreate(ip.ReadOnlyBuffer[offset..], out var tcp) || !tcp.VerifyChecksum(ip.PseudoHeaderSum(protocol, tcp.ReadOnlyBuffer.Length)) ||
            !tcp.TryGetMaximumSegmentSize(out var mss))
        {
            throw new InvalidOperationException("benchmark packet did not verify");
        }

        return mss;
    }

    [Benchmark]
    public int Responder_echo_on_tap() => _responder.Process(_echoFrame, _reply);
}
