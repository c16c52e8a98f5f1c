using TunTap.Wire;

namespace TunTap.Tests.Wire;

/// <summary>Views made from read-only bytes can be read but never write into them.</summary>
public sealed class ReadOnlyViewTests
{
    [Fact]
    public void Ipv4_view_of_read_only_bytes_reads_but_refuses_setters_and_writable_spans()
    {
        var bytes = WirePackets.Ipv4Udp([1, 2, 3]);
        var copy = bytes.ToArray();

        Assert.True(Ipv4Packet.TryCreate((ReadOnlySpan<byte>)bytes, out var ip));
        Assert.True(ip.IsReadOnly);
        Assert.Equal(IpProtocol.Udp, ip.Protocol);
        Assert.Equal(WirePackets.V4B, ip.Destination);
        Assert.True(ip.VerifyHeaderChecksum());
        Assert.Equal(bytes.AsSpan(20).ToArray(), ip.ReadOnlyPayload.ToArray());

        Assert.Throws<InvalidOperationException>(() => ReadOnlyIpv4(bytes).TimeToLive = 1);
        Assert.Throws<InvalidOperationException>(() => ReadOnlyIpv4(bytes).FillHeaderChecksum());
        Assert.Throws<InvalidOperationException>(() => ReadOnlyIpv4(bytes).Payload.Clear());
        Assert.Throws<InvalidOperationException>(() => ReadOnlyIpv4(bytes).Buffer.Clear());
        Assert.Equal(copy, bytes);
    }

    [Fact]
    public void Ipv4_view_of_writable_bytes_still_writes()
    {
        var bytes = WirePackets.Ipv4Udp([1, 2, 3]);
        Assert.True(Ipv4Packet.TryCreate(bytes.AsSpan(), out var ip));
        Assert.False(ip.IsReadOnly);

        ip.TimeToLive = 9;
        ip.Payload[0] = 0xEE;

        Assert.Equal(9, bytes[8]);
        Assert.Equal(0xEE, bytes[20]);
        Assert.Equal(ip.Buffer.Length, ip.ReadOnlyBuffer.Length);
    }

    [Fact]
    public void Views_chained_through_read_only_payloads_stay_read_only()
    {
        var bytes = WirePackets.Ethernet(WirePackets.Ipv4Udp([7, 8]), EtherType.Ipv4, vlan: false);
        var copy = bytes.ToArray();

        Assert.True(EthernetFrame.TryCreate((ReadOnlySpan<byte>)bytes, out var frame));
        Assert.True(Ipv4Packet.TryCreate(frame.ReadOnlyPayload, out var ip));
        Assert.True(UdpDatagram.TryCreate(ip.ReadOnlyPayload, out var udp));
        Assert.True(frame.IsReadOnly && ip.IsReadOnly && udp.IsReadOnly);
        Assert.Equal((ushort)7, udp.DestinationPort);
        Assert.True(udp.VerifyChecksum(udp.PseudoHeaderSum(ip.Source, ip.Destination)));
        Assert.Equal([7, 8], udp.ReadOnlyPayload.ToArray());

        Assert.Throws<InvalidOperationException>(() => ReadOnlyFrame(bytes).Source = WirePackets.MacB);
        Assert.Throws<InvalidOperationException>(() => ReadOnlyFrame(bytes).Payload.Clear());
        Assert.Throws<InvalidOperationException>(() => ReadOnlyUdp(bytes).DestinationPort = 9);
        Assert.Throws<InvalidOperationException>(() => ReadOnlyUdp(bytes).FillChecksum(0));
        Assert.Equal(copy, bytes);
    }

    [Fact]
    public void Ipv6_tcp_and_icmpv6_views_of_read_only_bytes_read_addresses_options_and_ndp()
    {
        var tcpBytes = WirePackets.Ipv6Tcp();
        Assert.True(Ipv6Packet.TryCreate((ReadOnlySpan<byte>)tcpBytes, out var ip));
        Assert.True(ip.TryGetUpperLayer(out var protocol, out var offset));
        Assert.Equal(WirePackets.V6A, ip.ReadOnlySource.ToArray());
        Assert.True(TcpSegment.TryCreate(ip.ReadOnlyBuffer[offset..], out var tcp));
        Assert.True(tcp.IsReadOnly);
        Assert.True(tcp.VerifyChecksum(ip.PseudoHeaderSum(protocol, tcp.ReadOnlyBuffer.Length)));
        Assert.True(tcp.TryGetMaximumSegmentSize(out var mss));
        Assert.Equal((ushort)1460, mss);
        Assert.Throws<InvalidOperationException>(() => ReadOnlyIpv6(tcpBytes).Source.Clear());
        Assert.Throws<InvalidOperationException>(() => ReadOnlyTcp(tcpBytes).Flags = TcpFlags.Rst);

        var nsBytes = WirePackets.Ipv6NeighborSolicitation();
        var copy = nsBytes.ToArray();
        Assert.True(IcmpV6Packet.TryCreate((ReadOnlySpan<byte>)nsBytes.AsSpan(40), out var ns));
        Assert.True(ns.IsReadOnly);
        Assert.True(ns.NdpOptionsAreValid());
        Assert.True(ns.TryGetLinkLayerAddress(NdpOptionType.SourceLinkLayerAddress, out var mac));
        Assert.Equal(WirePackets.MacA, mac);
        Assert.Equal(WirePackets.V6B, ns.ReadOnlyTargetAddress.ToArray());
        Assert.Throws<InvalidOperationException>(() => ReadOnlyIcmpV6(nsBytes).SolicitedFlag = true);
        Assert.Throws<InvalidOperationException>(() => ReadOnlyIcmpV6(nsBytes).TargetAddress.Clear());
        Assert.Equal(copy, nsBytes);
    }

    [Fact]
    public void Arp_icmpv4_and_vxlan_views_of_read_only_bytes_refuse_writes()
    {
        var arp = WirePackets.Arp();
        var echo = WirePackets.Ipv4IcmpEcho([5, 6]).AsSpan(20).ToArray();
        byte[] vxlan = [0x08, 0, 0, 0, 0, 0, 42, 0, 0xAB];

        Assert.True(ArpPacket.TryCreate((ReadOnlySpan<byte>)arp, out var arpView));
        Assert.True(arpView.IsReadOnly);
        Assert.Equal(WirePackets.V4B, arpView.TargetProtocolAddress);
        Assert.True(IcmpV4Packet.TryCreate((ReadOnlySpan<byte>)echo, out var icmp));
        Assert.True(icmp.VerifyChecksum());
        Assert.Equal([5, 6], icmp.ReadOnlyData.ToArray());
        Assert.True(VxlanHeader.TryCreate((ReadOnlySpan<byte>)vxlan, out var header));
        Assert.Equal(42u, header.Vni);
        Assert.Equal([0xAB], header.ReadOnlyPayload.ToArray());

        Assert.Throws<InvalidOperationException>(() =>
        {
            ArpPacket.TryCreate((ReadOnlySpan<byte>)arp, out var view);
            view.Buffer.Clear();
        });
        Assert.Throws<InvalidOperationException>(() =>
        {
            IcmpV4Packet.TryCreate((ReadOnlySpan<byte>)echo, out var view);
            view.FillChecksum();
        });
        Assert.Throws<InvalidOperationException>(() =>
        {
            VxlanHeader.TryCreate((ReadOnlySpan<byte>)vxlan, out var view);
            view.Vni = 7;
        });
        Assert.Equal(42, vxlan[6]);
    }

    private static Ipv4Packet ReadOnlyIpv4(byte[] bytes) =>
        Ipv4Packet.TryCreate((ReadOnlySpan<byte>)bytes, out var ip) ? ip : throw new InvalidDataException("not IPv4");

    private static Ipv6Packet ReadOnlyIpv6(byte[] bytes) =>
        Ipv6Packet.TryCreate((ReadOnlySpan<byte>)bytes, out var ip) ? ip : throw new InvalidDataException("not IPv6");

    private static EthernetFrame ReadOnlyFrame(byte[] bytes) =>
        EthernetFrame.TryCreate((ReadOnlySpan<byte>)bytes, out var frame) ? frame : throw new InvalidDataException("not Ethernet");

    private static UdpDatagram ReadOnlyUdp(byte[] frame) =>
        UdpDatagram.TryCreate(ReadOnlyIpv4(frame[EthernetFrame.UntaggedHeaderLength..]).ReadOnlyPayload, out var udp) ? udp : throw new InvalidDataException("not UDP");

    private static TcpSegment ReadOnlyTcp(byte[] packet) =>
        TcpSegment.TryCreate(ReadOnlyIpv6(packet).ReadOnlyPayload, out var tcp) ? tcp : throw new InvalidDataException("not TCP");

    private static IcmpV6Packet ReadOnlyIcmpV6(byte[] packet) =>
        IcmpV6Packet.TryCreate(ReadOnlyIpv6(packet).ReadOnlyPayload, out var icmp) ? icmp : throw new InvalidDataException("not ICMPv6");
}
