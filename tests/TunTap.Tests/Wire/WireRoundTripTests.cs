using CsCheck;
using TunTap.Wire;

namespace TunTap.Tests.Wire;

public class WireRoundTripTests
{
    [Fact]
    public void Ethernet_header_round_trips_with_and_without_vlan_tag()
    {
        Gen.Select(Gen.ULong, Gen.ULong, Gen.UShort, Gen.Select(Gen.UShort[0, 4095], Gen.Byte[0, 7], Gen.Bool)).Sample((dst, src, type, tag) =>
        {
            var (vlan, priority, tagged) = tag;
            var buffer = new byte[30];
            var length = tagged
                ? EthernetFrame.WriteTaggedHeader(buffer, MacAddress.FromValue(dst), MacAddress.FromValue(src), vlan, priority, type)
                : EthernetFrame.WriteHeader(buffer, MacAddress.FromValue(dst), MacAddress.FromValue(src), type);
            Assert.True(EthernetFrame.TryCreate(buffer.AsSpan(), out var frame));
            Assert.Equal(MacAddress.FromValue(dst), frame.Destination);
            Assert.Equal(MacAddress.FromValue(src), frame.Source);
            Assert.Equal(length, frame.HeaderLength);
            Assert.Equal(30 - length, frame.Payload.Length);
            if (tagged || type != EtherType.Vlan)
            {
                Assert.Equal(tagged, frame.HasVlanTag);
                Assert.Equal(type, frame.EtherType);
                Assert.Equal(tagged ? vlan : 0, frame.VlanId);
                Assert.Equal(tagged ? priority : 0, frame.Priority);
            }
        });
    }

    [Fact]
    public void Ethernet_view_rejects_a_tagged_frame_cut_inside_the_tag()
    {
        var frame = WirePackets.Ethernet([], EtherType.Ipv4, vlan: true);
        Assert.False(EthernetFrame.TryCreate(frame.AsSpan(0, 16), out _));
        Assert.Equal(WireError.Truncated, EthernetFrame.Validate(frame.AsSpan(0, 16)));
        Assert.True(EthernetFrame.TryCreate(frame.AsSpan(), out var view));
        Assert.Equal(42, view.VlanId);
        Assert.Equal(5, view.Priority);
    }

    [Fact]
    public void Mac_address_formats_and_converts()
    {
        var mac = MacAddress.FromValue(0x02_00_5E_10_00_01);
        Assert.Equal("02:00:5e:10:00:01", mac.ToString());
        Assert.Equal(mac, MacAddress.FromPhysicalAddress(mac.ToPhysicalAddress()));
        Assert.True(MacAddress.Broadcast.IsMulticast);
        Assert.True(MacAddress.FromValue(0x33_33_00_00_00_01).IsMulticast);
        Assert.False(mac.IsMulticast);
    }

    [Fact]
    public void Arp_round_trips()
    {
        Gen.Select(Gen.ULong, Gen.UInt, Gen.ULong, Gen.UInt).Sample((sha, spa, tha, tpa) =>
        {
            var buffer = new byte[42];
            Assert.Equal(28, ArpPacket.Write(buffer, ArpOperation.Reply, MacAddress.FromValue(sha), spa, MacAddress.FromValue(tha), tpa));
            Assert.True(ArpPacket.TryCreate(buffer.AsSpan(), out var arp));
            Assert.Equal(ArpOperation.Reply, arp.Operation);
            Assert.Equal(MacAddress.FromValue(sha), arp.SenderHardwareAddress);
            Assert.Equal(spa, arp.SenderProtocolAddress);
            Assert.Equal(MacAddress.FromValue(tha), arp.TargetHardwareAddress);
            Assert.Equal(tpa, arp.TargetProtocolAddress);
            Assert.Equal(28, arp.Buffer.Length);
        });
    }

    [Fact]
    public void Arp_view_reports_other_hardware_as_unsupported()
    {
        var arp = WirePackets.Arp();
        arp[1] = 6; // IEEE 802 networks
        Assert.Equal(WireError.Unsupported, ArpPacket.Validate(arp));
    }

    [Fact]
    public void Ipv4_header_round_trips_and_verifies()
    {
        Gen.Select(Gen.Select(Gen.UInt, Gen.UInt, Gen.Byte, Gen.Int[0, 100]), Gen.Select(Gen.Byte, Gen.UShort, Gen.Bool, Gen.Byte[0, 63])).Sample((a, b) =>
        {
            var (src, dst, protocol, payload) = a;
            var (ttl, id, df, dscp) = b;
            var buffer = new byte[20 + payload + 6]; // trailing link-layer padding must be cut off
            var written = Ipv4Packet.WriteHeader(buffer, src, dst, protocol, payload, ttl, id, df);
            written.Dscp = dscp;
            written.Ecn = 2;
            written.FillHeaderChecksum();
            Assert.True(Ipv4Packet.TryCreate(buffer.AsSpan(), out var ip));
            Assert.Equal(4, ip.Version);
            Assert.Equal(20, ip.HeaderLength);
            Assert.Equal(20 + payload, ip.TotalLength);
            Assert.Equal(payload, ip.Payload.Length);
            Assert.Equal(src, ip.Source);
            Assert.Equal(dst, ip.Destination);
            Assert.Equal(protocol, ip.Protocol);
            Assert.Equal(ttl, ip.TimeToLive);
            Assert.Equal(id, ip.Identification);
            Assert.Equal(df, ip.DontFragment);
            Assert.False(ip.MoreFragments);
            Assert.Equal(dscp, ip.Dscp);
            Assert.Equal(2, ip.Ecn);
            Assert.True(ip.VerifyHeaderChecksum());
            ip.TimeToLive ^= 1;
            Assert.False(ip.VerifyHeaderChecksum());
        });
    }

    [Fact]
    public void Ipv4_fragment_fields_round_trip()
    {
        Gen.Select(Gen.UShort[0, 0x1FFF], Gen.Bool, Gen.Bool).Sample((offset, mf, df) =>
        {
            var ip = Ipv4Packet.WriteHeader(new byte[20], 1, 2, 17, 0);
            ip.FragmentOffset = offset;
            ip.MoreFragments = mf;
            ip.DontFragment = df;
            Assert.Equal(offset, ip.FragmentOffset);
            Assert.Equal(mf, ip.MoreFragments);
            Assert.Equal(df, ip.DontFragment);
            Assert.Equal(mf || offset != 0, ip.IsFragment);
        });
    }

    [Theory]
    [InlineData(19, WireError.Truncated)]
    [InlineData(0x55, WireError.Malformed)] // version 5
    [InlineData(0x44, WireError.Malformed)] // IHL 4
    [InlineData(0x46, WireError.Truncated)] // IHL 6 with a 20-byte buffer
    public void Ipv4_view_rejects_bad_headers(int firstByteOrLength, WireError expected)
    {
        var buffer = new byte[20];
        Ipv4Packet.WriteHeader(buffer, 1, 2, 17, 0);
        var span = firstByteOrLength < 20 ? buffer.AsSpan(0, firstByteOrLength) : buffer.AsSpan();
        if (firstByteOrLength >= 20)
        {
            buffer[0] = (byte)firstByteOrLength;
        }

        Assert.Equal(expected, Ipv4Packet.Validate(span));
        Assert.False(Ipv4Packet.TryCreate(span, out _));
    }

    [Fact]
    public void Ipv4_view_rejects_total_length_beyond_the_buffer_or_below_the_header()
    {
        var buffer = new byte[30];
        Ipv4Packet.WriteHeader(buffer, 1, 2, 17, 10);
        Assert.Equal(WireError.Truncated, Ipv4Packet.Validate(buffer.AsSpan(0, 29)));
        buffer[3] = 19;
        Assert.Equal(WireError.Malformed, Ipv4Packet.Validate(buffer));
    }

    [Fact]
    public void Ipv4_options_are_exposed()
    {
        var buffer = new byte[28];
        Ipv4Packet.WriteHeader(buffer, 1, 2, 17, 8);
        buffer[0] = 0x47; // IHL 7: 8 option bytes
        buffer[20] = 1;
        Assert.True(Ipv4Packet.TryCreate(buffer.AsSpan(), out var ip));
        Assert.Equal(8, ip.Options.Length);
        Assert.Equal(1, ip.Options[0]);
        Assert.Equal(0, ip.Payload.Length);
    }

    [Fact]
    public void Ipv6_header_round_trips()
    {
        Gen.Select(Gen.Byte.Array[16], Gen.Byte.Array[16], Gen.Select(Gen.Byte, Gen.Byte, Gen.Int[0, 100]), Gen.Select(Gen.Byte, Gen.UInt[0, 0xFFFFF])).Sample((src, dst, a, b) =>
        {
            var (next, hop, payload) = a;
            var (tc, flow) = b;
            var buffer = new byte[40 + payload + 3];
            var written = Ipv6Packet.WriteHeader(buffer, src, dst, next, payload, hop);
            written.TrafficClass = tc;
            written.FlowLabel = flow;
            Assert.True(Ipv6Packet.TryCreate(buffer.AsSpan(), out var ip));
            Assert.Equal(6, ip.Version);
            Assert.Equal(tc, ip.TrafficClass);
            Assert.Equal(flow, ip.FlowLabel);
            Assert.Equal(payload, ip.PayloadLength);
            Assert.Equal(payload, ip.Payload.Length);
            Assert.Equal(next, ip.NextHeader);
            Assert.Equal(hop, ip.HopLimit);
            Assert.Equal(src, ip.Source.ToArray());
            Assert.Equal(dst, ip.Destination.ToArray());
        });
    }

    [Fact]
    public void Ipv6_upper_layer_is_found_behind_extension_headers()
    {
        var packet = WirePackets.Ipv6WithHopByHop();
        Assert.True(Ipv6Packet.TryCreate(packet.AsSpan(), out var ip));
        Assert.True(ip.TryGetUpperLayer(out var protocol, out var offset));
        Assert.Equal(IpProtocol.IcmpV6, protocol);
        Assert.Equal(48, offset);
        Assert.True(IcmpV6Packet.TryCreate(ip.Buffer[offset..], out var icmp));
        Assert.True(icmp.VerifyChecksum(ip.PseudoHeaderSum(protocol, icmp.Buffer.Length)));
        Assert.Equal(7, icmp.Identifier);
    }

    [Fact]
    public void Ipv6_walk_stops_at_a_non_first_fragment_and_rejects_truncated_chains()
    {
        var buffer = new byte[40 + 8 + 8];
        var ip = Ipv6Packet.WriteHeader(buffer, new byte[16], new byte[16], IpProtocol.Fragment, 16);
        ip.Payload[0] = IpProtocol.Udp;
        ip.Payload[3] = 0x08; // offset 1 (x8 bytes)
        Assert.True(ip.TryGetUpperLayer(out var protocol, out var offset));
        Assert.Equal(IpProtocol.Fragment, protocol);
        Assert.Equal(40, offset);

        ip.Payload[3] = 0x01; // first fragment, M flag
        Assert.True(ip.TryGetUpperLayer(out protocol, out offset));
        Assert.Equal(IpProtocol.Udp, protocol);
        Assert.Equal(48, offset);

        ip.Payload[0] = IpProtocol.DestinationOptions;
        ip.Payload[9] = 1; // 16-byte destination options header, only 8 bytes left
        Assert.False(ip.TryGetUpperLayer(out _, out _));
    }

    [Fact]
    public void Ipv6_walk_is_bounded_on_a_chain_of_options_headers()
    {
        var buffer = new byte[40 + 800];
        var ip = Ipv6Packet.WriteHeader(buffer, new byte[16], new byte[16], IpProtocol.DestinationOptions, 800);
        for (var i = 0; i < 100; i++)
        {
            ip.Payload[i * 8] = IpProtocol.DestinationOptions;
        }

        Assert.False(ip.TryGetUpperLayer(out _, out _));
    }

    [Fact]
    public void Udp_round_trips_and_checksum_verifies_for_ipv4_and_ipv6()
    {
        Gen.Select(Gen.UShort, Gen.UShort, Gen.Byte.Array[0, 100]).Sample((sport, dport, payload) =>
        {
            var buffer = new byte[8 + payload.Length + 2];
            var udp = UdpDatagram.WriteHeader(buffer, sport, dport, payload.Length);
            payload.CopyTo(udp.Payload);
            udp.FillChecksum(udp.PseudoHeaderSum(WirePackets.V6A, WirePackets.V6B));
            Assert.True(UdpDatagram.TryCreate(buffer.AsSpan(), out var parsed));
            Assert.Equal(sport, parsed.SourcePort);
            Assert.Equal(dport, parsed.DestinationPort);
            Assert.Equal(8 + payload.Length, parsed.Length);
            Assert.Equal(payload, parsed.Payload.ToArray());
            Assert.NotEqual(0, parsed.Checksum);
            Assert.True(parsed.VerifyChecksum(parsed.PseudoHeaderSum(WirePackets.V6A, WirePackets.V6B)));
            Assert.False(parsed.VerifyChecksum(parsed.PseudoHeaderSum(WirePackets.V6B, WirePackets.V6B)));
            parsed.FillChecksum(parsed.PseudoHeaderSum(WirePackets.V4A, WirePackets.V4B));
            Assert.True(parsed.VerifyChecksum(parsed.PseudoHeaderSum(WirePackets.V4A, WirePackets.V4B)));
        });
    }

    [Fact]
    public void Udp_view_rejects_bad_length_fields()
    {
        var buffer = new byte[12];
        UdpDatagram.WriteHeader(buffer, 1, 2, 4);
        Assert.Equal(WireError.Truncated, UdpDatagram.Validate(buffer.AsSpan(0, 11)));
        buffer[5] = 7;
        Assert.Equal(WireError.Malformed, UdpDatagram.Validate(buffer));
    }

    [Fact]
    public void Tcp_round_trips_with_options()
    {
        Gen.Select(Gen.Select(Gen.UShort, Gen.UShort, Gen.UInt, Gen.UInt), Gen.Select(Gen.UShort[0, 0x1FF], Gen.UShort, Gen.UShort, Gen.Byte[0, 14]), Gen.Select(Gen.UInt, Gen.UInt)).Sample((a, b, ts) =>
        {
            var (sport, dport, seq, ack) = a;
            var (flags, window, mss, scale) = b;
            byte[] options = [2, 4, (byte)(mss >> 8), (byte)mss, 1, 3, 3, scale, 4, 2, 8, 10, (byte)(ts.Item1 >> 24), (byte)(ts.Item1 >> 16), (byte)(ts.Item1 >> 8), (byte)ts.Item1, (byte)(ts.Item2 >> 24), (byte)(ts.Item2 >> 16), (byte)(ts.Item2 >> 8), (byte)ts.Item2];
            var buffer = new byte[60];
            var written = TcpSegment.WriteHeader(buffer, sport, dport, seq, ack, (TcpFlags)flags, window, options, 0);
            written.FillChecksum(InternetChecksum.PseudoHeaderSum(WirePackets.V4A, WirePackets.V4B, IpProtocol.Tcp, 60));
            Assert.True(TcpSegment.TryCreate(buffer.AsSpan(), out var tcp));
            Assert.Equal(sport, tcp.SourcePort);
            Assert.Equal(dport, tcp.DestinationPort);
            Assert.Equal(seq, tcp.SequenceNumber);
            Assert.Equal(ack, tcp.AcknowledgmentNumber);
            Assert.Equal((TcpFlags)flags, tcp.Flags);
            Assert.Equal(window, tcp.Window);
            Assert.Equal(40, tcp.HeaderLength);
            Assert.Equal(20, tcp.Payload.Length);
            Assert.True(tcp.TryGetMaximumSegmentSize(out var parsedMss));
            Assert.Equal(mss, parsedMss);
            Assert.True(tcp.TryGetWindowScale(out var parsedScale));
            Assert.Equal(scale, parsedScale);
            Assert.True(tcp.HasSackPermitted());
            Assert.True(tcp.TryGetTimestamps(out var tsval, out var tsecr));
            Assert.Equal(ts, (tsval, tsecr));
            Assert.True(tcp.VerifyChecksum(InternetChecksum.PseudoHeaderSum(WirePackets.V4A, WirePackets.V4B, IpProtocol.Tcp, 60)));
        });
    }

    [Fact]
    public void Tcp_option_walk_stops_at_a_bad_length()
    {
        byte[] options = [1, 2, 4, 5, 0xB4, 3, 0, 1];
        var buffer = new byte[28];
        var tcp = TcpSegment.WriteHeader(buffer, 1, 2, 0, 0, TcpFlags.Syn, 0, options, 0);
        var kinds = new List<byte>();
        foreach (var option in tcp.GetOptions())
        {
            kinds.Add(option.Kind);
        }

        // NOP, then an MSS claiming 4 bytes: 2,4,5,B4 => data [5,B4]; then kind 3 with length 0 stops.
        Assert.Equal([1, 2], kinds);
        Assert.True(tcp.TryGetMaximumSegmentSize(out var mss));
        Assert.Equal(0x05B4, mss);
        Assert.False(tcp.TryGetWindowScale(out _));
    }

    [Fact]
    public void Icmpv4_echo_round_trips()
    {
        Gen.Select(Gen.UShort, Gen.UShort, Gen.Byte.Array[0, 100]).Sample((id, seq, data) =>
        {
            var buffer = new byte[8 + data.Length];
            IcmpV4Packet.WriteEcho(buffer, IcmpV4Type.EchoRequest, id, seq, data);
            Assert.True(IcmpV4Packet.TryCreate(buffer.AsSpan(), out var icmp));
            Assert.Equal(IcmpV4Type.EchoRequest, icmp.Type);
            Assert.Equal(0, icmp.Code);
            Assert.Equal(id, icmp.Identifier);
            Assert.Equal(seq, icmp.SequenceNumber);
            Assert.Equal(data, icmp.Data.ToArray());
            Assert.True(icmp.VerifyChecksum());
        });
    }

    [Fact]
    public void Neighbor_advertisement_round_trips()
    {
        Gen.Select(Gen.Byte.Array[16], Gen.ULong, Gen.Bool, Gen.Bool).Sample((target, mac, solicited, withOption) =>
        {
            var buffer = new byte[32];
            var na = IcmpV6Packet.WriteNeighborMessage(buffer, IcmpV6Type.NeighborAdvertisement, target, withOption ? MacAddress.FromValue(mac) : null);
            na.SolicitedFlag = solicited;
            na.OverrideFlag = true;
            na.FillChecksum(InternetChecksum.PseudoHeaderSum(WirePackets.V6A, WirePackets.V6B, IpProtocol.IcmpV6, (uint)na.Buffer.Length));
            Assert.True(IcmpV6Packet.TryCreate(buffer.AsSpan(0, na.Buffer.Length), out var parsed));
            Assert.Equal(IcmpV6Type.NeighborAdvertisement, parsed.Type);
            Assert.Equal(target, parsed.TargetAddress.ToArray());
            Assert.False(parsed.RouterFlag);
            Assert.Equal(solicited, parsed.SolicitedFlag);
            Assert.True(parsed.OverrideFlag);
            Assert.True(parsed.NdpOptionsAreValid());
            Assert.Equal(withOption, parsed.TryGetLinkLayerAddress(NdpOptionType.TargetLinkLayerAddress, out var tll));
            Assert.Equal(withOption ? MacAddress.FromValue(mac) : default, tll);
            Assert.False(parsed.TryGetLinkLayerAddress(NdpOptionType.SourceLinkLayerAddress, out _));
            Assert.True(parsed.VerifyChecksum(InternetChecksum.PseudoHeaderSum(WirePackets.V6A, WirePackets.V6B, IpProtocol.IcmpV6, (uint)parsed.Buffer.Length)));
        });
    }

    [Fact]
    public void Ndp_options_with_zero_length_are_invalid()
    {
        var buffer = new byte[32];
        IcmpV6Packet.WriteNeighborMessage(buffer, IcmpV6Type.NeighborSolicitation, new byte[16], MacAddress.Broadcast);
        buffer[25] = 0;
        Assert.True(IcmpV6Packet.TryCreate(buffer.AsSpan(), out var ns));
        Assert.False(ns.NdpOptionsAreValid());
        Assert.False(ns.TryGetLinkLayerAddress(NdpOptionType.SourceLinkLayerAddress, out _));
    }
}
