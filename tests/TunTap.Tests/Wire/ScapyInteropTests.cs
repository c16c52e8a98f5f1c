using System.Net;
using TunTap.Wire;

namespace TunTap.Tests.Wire;

/// <summary>Our views against packets scapy built: fields parse, checksums agree.</summary>
public class ScapyInteropTests
{
    private static uint V4(string address) => (uint)IPAddress.NetworkToHostOrder(BitConverter.ToInt32(IPAddress.Parse(address).GetAddressBytes()));

    private static byte[] V6(string address) => IPAddress.Parse(address).GetAddressBytes();

    [Fact]
    public async Task Ipv4_udp_from_scapy_parses_and_checksums_match()
    {
        var bytes = await ScapyPackets.GetAsync("ipv4_udp");
        Assert.True(Ipv4Packet.TryCreate(bytes.AsSpan(), out var ip));
        Assert.Equal(V4("10.9.0.1"), ip.Source);
        Assert.Equal(V4("10.9.0.2"), ip.Destination);
        Assert.Equal(4321, ip.Identification);
        Assert.Equal(33, ip.TimeToLive);
        Assert.True(ip.DontFragment);
        Assert.Equal(0xB9 >> 2, ip.Dscp);
        Assert.Equal(0xB9 & 3, ip.Ecn);
        Assert.Equal(IpProtocol.Udp, ip.Protocol);
        Assert.True(ip.VerifyHeaderChecksum());
        Assert.Equal(ip.HeaderChecksum, ip.ComputeHeaderChecksum());

        Assert.True(UdpDatagram.TryCreate(ip.Payload, out var udp));
        Assert.Equal(5353, udp.SourcePort);
        Assert.Equal(7, udp.DestinationPort);
        Assert.Equal("hello scapy"u8.ToArray(), udp.Payload.ToArray());
        var pseudo = udp.PseudoHeaderSum(ip.Source, ip.Destination);
        Assert.Equal(udp.Checksum, udp.ComputeChecksum(pseudo));
        Assert.True(udp.VerifyChecksum(pseudo));
        Assert.Equal(pseudo, ip.PseudoHeaderSum());
    }

    [Fact]
    public async Task Ipv6_udp_from_scapy_parses_and_checksums_match()
    {
        var bytes = await ScapyPackets.GetAsync("ipv6_udp");
        Assert.True(Ipv6Packet.TryCreate(bytes.AsSpan(), out var ip));
        Assert.Equal(V6("fd00:9::1"), ip.Source.ToArray());
        Assert.Equal(V6("fd00:9::2"), ip.Destination.ToArray());
        Assert.Equal(17, ip.HopLimit);
        Assert.Equal(0x2E, ip.TrafficClass);
        Assert.Equal(0x12345u, ip.FlowLabel);
        Assert.True(ip.TryGetUpperLayer(out var protocol, out var offset));
        Assert.Equal(IpProtocol.Udp, protocol);
        Assert.True(UdpDatagram.TryCreate(ip.Buffer[offset..], out var udp));
        Assert.Equal(40000, udp.SourcePort);
        Assert.Equal(13, udp.Length);
        Assert.Equal(udp.Checksum, udp.ComputeChecksum(udp.PseudoHeaderSum(ip.Source, ip.Destination)));
    }

    [Fact]
    public async Task Ipv4_tcp_with_options_from_scapy_parses_and_checksum_matches()
    {
        var bytes = await ScapyPackets.GetAsync("ipv4_tcp");
        Assert.True(Ipv4Packet.TryCreate(bytes.AsSpan(), out var ip));
        Assert.True(ip.VerifyHeaderChecksum());
        Assert.True(TcpSegment.TryCreate(ip.Payload, out var tcp));
        Assert.Equal(12345, tcp.SourcePort);
        Assert.Equal(443, tcp.DestinationPort);
        Assert.Equal(1_000_000u, tcp.SequenceNumber);
        Assert.Equal(TcpFlags.Syn, tcp.Flags);
        Assert.Equal(64240, tcp.Window);
        Assert.True(tcp.TryGetMaximumSegmentSize(out var mss));
        Assert.Equal(1460, mss);
        Assert.True(tcp.HasSackPermitted());
        Assert.True(tcp.TryGetTimestamps(out var tsval, out var tsecr));
        Assert.Equal((123456u, 0u), (tsval, tsecr));
        Assert.True(tcp.TryGetWindowScale(out var scale));
        Assert.Equal(7, scale);
        Assert.Equal("xyz"u8.ToArray(), tcp.Payload.ToArray());
        Assert.Equal(tcp.Checksum, tcp.ComputeChecksum(ip.PseudoHeaderSum()));
        Assert.True(tcp.VerifyChecksum(ip.PseudoHeaderSum()));
    }

    [Fact]
    public async Task Ipv6_tcp_from_scapy_checksum_matches()
    {
        var bytes = await ScapyPackets.GetAsync("ipv6_tcp");
        Assert.True(Ipv6Packet.TryCreate(bytes.AsSpan(), out var ip));
        Assert.True(TcpSegment.TryCreate(ip.Payload, out var tcp));
        Assert.Equal(TcpFlags.Psh | TcpFlags.Ack, tcp.Flags);
        Assert.Equal(9u, tcp.AcknowledgmentNumber);
        Assert.Equal(101, tcp.Payload.Length);
        Assert.Equal(tcp.Checksum, tcp.ComputeChecksum(ip.PseudoHeaderSum(IpProtocol.Tcp, tcp.Buffer.Length)));
    }

    [Fact]
    public async Task Icmpv6_echo_from_scapy_checksum_matches()
    {
        var bytes = await ScapyPackets.GetAsync("icmpv6_echo");
        Assert.True(Ipv6Packet.TryCreate(bytes.AsSpan(), out var ip));
        Assert.True(IcmpV6Packet.TryCreate(ip.Payload, out var icmp));
        Assert.Equal(IcmpV6Type.EchoRequest, icmp.Type);
        Assert.Equal(0xBEEF, icmp.Identifier);
        Assert.Equal(3, icmp.SequenceNumber);
        Assert.Equal("ping-data"u8.ToArray(), icmp.Data.ToArray());
        Assert.Equal(icmp.Checksum, icmp.ComputeChecksum(ip.PseudoHeaderSum(IpProtocol.IcmpV6, icmp.Buffer.Length)));
    }

    [Fact]
    public async Task Neighbor_solicitation_from_scapy_parses_with_its_option()
    {
        var bytes = await ScapyPackets.GetAsync("icmpv6_ns");
        Assert.True(Ipv6Packet.TryCreate(bytes.AsSpan(), out var ip));
        Assert.Equal(255, ip.HopLimit);
        Assert.True(IcmpV6Packet.TryCreate(ip.Payload, out var ns));
        Assert.Equal(IcmpV6Type.NeighborSolicitation, ns.Type);
        Assert.Equal(V6("fd00:9::2"), ns.TargetAddress.ToArray());
        Assert.True(ns.NdpOptionsAreValid());
        Assert.True(ns.TryGetLinkLayerAddress(NdpOptionType.SourceLinkLayerAddress, out var sll));
        Assert.Equal("02:11:22:33:44:55", sll.ToString());
        Assert.True(ns.VerifyChecksum(ip.PseudoHeaderSum(IpProtocol.IcmpV6, ns.Buffer.Length)));
    }

    [Fact]
    public async Task Hop_by_hop_header_from_scapy_is_skipped()
    {
        var bytes = await ScapyPackets.GetAsync("icmpv6_hbh");
        Assert.True(Ipv6Packet.TryCreate(bytes.AsSpan(), out var ip));
        Assert.Equal(IpProtocol.HopByHop, ip.NextHeader);
        Assert.True(ip.TryGetUpperLayer(out var protocol, out var offset));
        Assert.Equal(IpProtocol.IcmpV6, protocol);
        Assert.Equal(48, offset);
        Assert.True(IcmpV6Packet.TryCreate(ip.Buffer[offset..], out var icmp));
        Assert.True(icmp.VerifyChecksum(ip.PseudoHeaderSum(protocol, icmp.Buffer.Length)));
    }

    [Fact]
    public async Task Vlan_tagged_icmp_from_scapy_parses_and_checksums_match()
    {
        var bytes = await ScapyPackets.GetAsync("ether_vlan_icmp");
        Assert.True(EthernetFrame.TryCreate(bytes.AsSpan(), out var eth));
        Assert.True(eth.HasVlanTag);
        Assert.Equal(100, eth.VlanId);
        Assert.Equal(3, eth.Priority);
        Assert.Equal(EtherType.Ipv4, eth.EtherType);
        Assert.Equal("02:00:00:00:00:02", eth.Destination.ToString());
        Assert.True(Ipv4Packet.TryCreate(eth.Payload, out var ip));
        Assert.True(ip.VerifyHeaderChecksum());
        Assert.True(IcmpV4Packet.TryCreate(ip.Payload, out var icmp));
        Assert.Equal(IcmpV4Type.EchoRequest, icmp.Type);
        Assert.Equal(77, icmp.Identifier);
        Assert.Equal(5, icmp.SequenceNumber);
        Assert.Equal(icmp.Checksum, icmp.ComputeChecksum());
    }

    [Fact]
    public async Task Arp_request_from_scapy_parses()
    {
        var bytes = await ScapyPackets.GetAsync("ether_arp");
        Assert.True(EthernetFrame.TryCreate(bytes.AsSpan(), out var eth));
        Assert.Equal(EtherType.Arp, eth.EtherType);
        Assert.True(eth.Destination.IsBroadcast);
        Assert.True(ArpPacket.TryCreate(eth.Payload, out var arp));
        Assert.Equal(ArpOperation.Request, arp.Operation);
        Assert.Equal(V4("10.9.0.1"), arp.SenderProtocolAddress);
        Assert.Equal(V4("10.9.0.2"), arp.TargetProtocolAddress);
        Assert.Equal("02:00:00:00:00:01", arp.SenderHardwareAddress.ToString());
    }
}
