using CsCheck;
using TunTap.Devices;
using TunTap.Services;
using TunTap.Wire;
using static TunTap.Tests.Services.ResponderPackets;

namespace TunTap.Tests.Services;

public class PacketResponderTests
{
    private static void AssertCounted(PacketResponder responder, long replied, long ignored, long dropped)
    {
        Assert.Equal(replied + ignored + dropped, responder.Counters.Received);
        Assert.Equal(replied, responder.Counters.Replied);
        Assert.Equal(ignored, responder.Counters.Ignored);
        Assert.Equal(dropped, responder.Counters.Dropped);
    }

    [Fact]
    public void Responder_answers_ipv4_echo_on_tun()
    {
        var responder = Create(DeviceMode.Tun);
        var reply = Process(responder, Icmp4Echo(Peer4, [1, 2, 3, 4, 5]));
        AssertIpReplyValid(reply);
        Assert.True(Ipv4Packet.TryCreate(reply.AsSpan(), out var ip));
        Assert.Equal(Peer4, ip.Source);
        Assert.Equal(Kernel4, ip.Destination);
        Assert.True(IcmpV4Packet.TryCreate(ip.Payload, out var icmp));
        Assert.Equal(0x4242, icmp.Identifier);
        Assert.Equal(7, icmp.SequenceNumber);
        Assert.Equal([1, 2, 3, 4, 5], icmp.Data.ToArray());
        AssertCounted(responder, 1, 0, 0);
    }

    [Fact]
    public void Responder_answers_ipv6_echo_on_tun()
    {
        var responder = Create(DeviceMode.Tun);
        var reply = Process(responder, Icmp6Echo(V6("fd00:9::abcd"), [9, 9, 9]));
        AssertIpReplyValid(reply);
        Assert.True(Ipv6Packet.TryCreate(reply.AsSpan(), out var ip));
        Assert.Equal(V6("fd00:9::abcd"), ip.Source.ToArray());
        Assert.Equal(Kernel6, ip.Destination.ToArray());
        Assert.True(IcmpV6Packet.TryCreate(ip.Payload, out var icmp));
        Assert.Equal(IcmpV6Type.EchoReply, icmp.Type);
        Assert.Equal(0x4242, icmp.Identifier);
        Assert.Equal([9, 9, 9], icmp.Data.ToArray());
        AssertCounted(responder, 1, 0, 0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Responder_answers_ipv4_echo_on_tap(bool vlan)
    {
        var responder = Create(DeviceMode.Tap);
        var reply = Process(responder, Frame(Icmp4Echo(Peer4, [7]), EtherType.Ipv4, vlan: vlan));
        Assert.True(EthernetFrame.TryCreate(reply.AsSpan(), out var frame));
        Assert.Equal(KernelMac, frame.Destination);
        Assert.Equal(ResponderMac, frame.Source);
        Assert.Equal(EtherType.Ipv4, frame.EtherType);
        Assert.Equal(vlan, frame.HasVlanTag);
        Assert.Equal(vlan ? 9 : 0, frame.VlanId);
        AssertIpReplyValid(frame.Payload);
        AssertCounted(responder, 1, 0, 0);
    }

    [Fact]
    public void Responder_answers_ipv6_echo_on_tap()
    {
        var responder = Create(DeviceMode.Tap);
        var reply = Process(responder, Frame(Icmp6Echo(Peer6, [1, 2]), EtherType.Ipv6));
        Assert.True(EthernetFrame.TryCreate(reply.AsSpan(), out var frame));
        Assert.Equal(KernelMac, frame.Destination);
        Assert.Equal(EtherType.Ipv6, frame.EtherType);
        AssertIpReplyValid(frame.Payload);
    }

    [Fact]
    public void Responder_answers_arp_requests_for_other_hosts()
    {
        var responder = Create(DeviceMode.Tap);
        var reply = Process(responder, Frame(ArpRequest(V4("10.9.0.77")), EtherType.Arp, MacAddress.Broadcast));
        Assert.True(EthernetFrame.TryCreate(reply.AsSpan(), out var frame));
        Assert.Equal(KernelMac, frame.Destination);
        Assert.Equal(ResponderMac, frame.Source);
        Assert.Equal(EtherType.Arp, frame.EtherType);
        Assert.True(ArpPacket.TryCreate(frame.Payload, out var arp));
        Assert.Equal(ArpOperation.Reply, arp.Operation);
        Assert.Equal(ResponderMac, arp.SenderHardwareAddress);
        Assert.Equal(V4("10.9.0.77"), arp.SenderProtocolAddress);
        Assert.Equal(KernelMac, arp.TargetHardwareAddress);
        Assert.Equal(Kernel4, arp.TargetProtocolAddress);
        Assert.Equal(42, reply.Length);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Responder_answers_neighbor_solicitation_on_tap_with_target_link_layer_address(bool toSolicitedNode)
    {
        var responder = Create(DeviceMode.Tap);
        var target = V6("fd00:9::42");
        var request = NeighborSolicitation(target, toSolicitedNode ? null : target);
        var reply = Process(responder, Frame(request, EtherType.Ipv6, toSolicitedNode ? MacAddress.FromValue(0x33_33_FF_00_00_42) : ResponderMac));
        Assert.True(EthernetFrame.TryCreate(reply.AsSpan(), out var frame));
        Assert.Equal(KernelMac, frame.Destination);
        AssertIpReplyValid(frame.Payload);
        Assert.True(Ipv6Packet.TryCreate(frame.Payload, out var ip));
        Assert.Equal(255, ip.HopLimit);
        Assert.Equal(target, ip.Source.ToArray());
        Assert.Equal(Kernel6, ip.Destination.ToArray());
        Assert.True(IcmpV6Packet.TryCreate(ip.Payload, out var na));
        Assert.Equal(IcmpV6Type.NeighborAdvertisement, na.Type);
        Assert.Equal(target, na.TargetAddress.ToArray());
        Assert.True(na.SolicitedFlag);
        Assert.True(na.OverrideFlag);
        Assert.False(na.RouterFlag);
        Assert.True(na.TryGetLinkLayerAddress(NdpOptionType.TargetLinkLayerAddress, out var tll));
        Assert.Equal(ResponderMac, tll);
    }

    [Fact]
    public void Responder_answers_neighbor_solicitation_on_tun_without_option()
    {
        var responder = Create(DeviceMode.Tun);
        var reply = Process(responder, NeighborSolicitation(Peer6, withOption: false));
        AssertIpReplyValid(reply);
        Assert.True(Ipv6Packet.TryCreate(reply.AsSpan(), out var ip));
        Assert.True(IcmpV6Packet.TryCreate(ip.Payload, out var na));
        Assert.Equal(24, na.Buffer.Length);
    }

    [Fact]
    public void Responder_echoes_udp_port_7_over_ipv4_and_ipv6()
    {
        var responder = Create(DeviceMode.Tun);
        var reply4 = Process(responder, Udp4(Peer4, 7, "hello"u8.ToArray()));
        AssertIpReplyValid(reply4);
        Assert.True(Ipv4Packet.TryCreate(reply4.AsSpan(), out var ip4));
        Assert.True(UdpDatagram.TryCreate(ip4.Payload, out var udp4));
        Assert.Equal(40000, udp4.DestinationPort);
        Assert.Equal("hello"u8.ToArray(), udp4.Payload.ToArray());

        var reply6 = Process(responder, Udp6(Peer6, 7, "odd"u8.ToArray()));
        AssertIpReplyValid(reply6);
        Assert.True(Ipv6Packet.TryCreate(reply6.AsSpan(), out var ip6));
        Assert.Equal(Peer6, ip6.Source.ToArray());
        Assert.True(UdpDatagram.TryCreate(ip6.Payload, out var udp6));
        Assert.Equal("odd"u8.ToArray(), udp6.Payload.ToArray());
        AssertCounted(responder, 2, 0, 0);
    }

    [Fact]
    public void Responder_echoes_ipv4_udp_without_checksum()
    {
        var responder = Create(DeviceMode.Tun);
        AssertIpReplyValid(Process(responder, Udp4(Peer4, 7, [1, 2, 3], withChecksum: false)));
    }

    public static TheoryData<string> IgnoredCases() =>
    [
        "echo to kernel v4", "echo to broadcast", "echo to network address", "echo to other subnet", "echo reply",
        "echo to kernel v6", "echo to all-nodes", "echo to other prefix v6", "udp port 53", "tcp", "router solicitation",
        "mld report", "dad ns", "ns for kernel", "ns for off-prefix target", "ipv4 fragment",
    ];

    [Theory]
    [MemberData(nameof(IgnoredCases))]
    public void Responder_ignores_well_formed_packets_not_for_it(string name)
    {
        var packet = name switch
        {
            "echo to kernel v4" => Icmp4Echo(Kernel4, [1]),
            "echo to broadcast" => Icmp4Echo(V4("10.9.0.255"), [1]),
            "echo to network address" => Icmp4Echo(V4("10.9.0.0"), [1]),
            "echo to other subnet" => Icmp4Echo(V4("10.9.1.2"), [1]),
            "echo reply" => Icmp4Echo(Peer4, [1], IcmpV4Type.EchoReply),
            "echo to kernel v6" => Icmp6Echo(Kernel6, [1]),
            "echo to all-nodes" => Icmp6Echo(V6("ff02::1"), [1]),
            "echo to other prefix v6" => Icmp6Echo(V6("fd00:8::2"), [1]),
            "udp port 53" => Udp4(Peer4, 53, [1]),
            "tcp" => Tcp(),
            "router solicitation" => Icmp6Echo(V6("ff02::2"), [0, 0, 0, 0], IcmpV6Type.RouterSolicitation),
            "mld report" => Icmp6Echo(V6("ff02::16"), [0, 0, 0, 0], IcmpV6Type.MulticastListenerReportV2),
            "dad ns" => NeighborSolicitation(Peer6, source: new byte[16], withOption: false),
            "ns for kernel" => NeighborSolicitation(Kernel6),
            "ns for off-prefix target" => NeighborSolicitation(V6("fd00:8::2")),
            "ipv4 fragment" => Fragment(),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
        foreach (var mode in new[] { DeviceMode.Tun, DeviceMode.Tap })
        {
            var responder = Create(mode);
            var input = mode == DeviceMode.Tap ? Frame(packet, packet[0] >> 4 == 4 ? EtherType.Ipv4 : EtherType.Ipv6, MacAddress.FromValue(0x33_33_00_00_00_01)) : packet;
            Assert.Empty(Process(responder, input));
            AssertCounted(responder, 0, 1, 0);
        }

        static byte[] Tcp()
        {
            var buffer = new byte[40];
            var ip = Ipv4Packet.WriteHeader(buffer, Kernel4, Peer4, IpProtocol.Tcp, 20);
            var tcp = TcpSegment.WriteHeader(ip.Payload, 1234, 7, 1, 0, TcpFlags.Syn, 100, [], 0);
            tcp.FillChecksum(ip.PseudoHeaderSum());
            return buffer;
        }

        static byte[] Fragment()
        {
            var packet = Icmp4Echo(Peer4, [1, 2, 3]);
            Assert.True(Ipv4Packet.TryCreate(packet.AsSpan(), out var ip));
            ip.MoreFragments = true;
            ip.FillHeaderChecksum();
            return packet;
        }
    }

    [Fact]
    public void Responder_on_tap_ignores_arp_for_the_kernel_frames_for_other_macs_and_other_ethertypes()
    {
        var responder = Create(DeviceMode.Tap);
        Assert.Empty(Process(responder, Frame(ArpRequest(Kernel4, V4("10.9.0.9")), EtherType.Arp, MacAddress.Broadcast)));
        Assert.Empty(Process(responder, Frame(ArpRequest(Peer4, Peer4), EtherType.Arp, MacAddress.Broadcast)));
        Assert.Empty(Process(responder, Frame(Icmp4Echo(Peer4, [1]), EtherType.Ipv4, MacAddress.FromValue(0x02_00_00_00_00_99))));
        Assert.Empty(Process(responder, Frame(new byte[46], 0x88CC)));
        AssertCounted(responder, 0, 4, 0);
    }

    public static TheoryData<string, ResponderDropReason> DroppedCases() => new()
    {
        { "empty", ResponderDropReason.Truncated },
        { "ipv4 cut in header", ResponderDropReason.Truncated },
        { "ipv4 total length beyond packet", ResponderDropReason.Truncated },
        { "version 5", ResponderDropReason.Malformed },
        { "ihl 4", ResponderDropReason.Malformed },
        { "ipv4 header checksum", ResponderDropReason.BadChecksum },
        { "icmp checksum", ResponderDropReason.BadChecksum },
        { "icmpv6 checksum", ResponderDropReason.BadChecksum },
        { "udp checksum", ResponderDropReason.BadChecksum },
        { "udp v6 zero checksum", ResponderDropReason.BadChecksum },
        { "udp length", ResponderDropReason.Malformed },
        { "icmp truncated", ResponderDropReason.Truncated },
        { "ns hop limit", ResponderDropReason.Malformed },
        { "ipv6 cut", ResponderDropReason.Truncated },
    };

    [Theory]
    [MemberData(nameof(DroppedCases))]
    public void Responder_drops_malformed_packets_with_a_reason(string name, ResponderDropReason reason)
    {
        var packet = name switch
        {
            "empty" => [],
            "ipv4 cut in header" => Icmp4Echo(Peer4, [1])[..19],
            "ipv4 total length beyond packet" => Icmp4Echo(Peer4, [1, 2, 3])[..30],
            "version 5" => Set(Icmp4Echo(Peer4, [1]), 0, 0x55),
            "ihl 4" => Set(Icmp4Echo(Peer4, [1]), 0, 0x44),
            "ipv4 header checksum" => Set(Icmp4Echo(Peer4, [1]), 8, 1),
            "icmp checksum" => Set(Icmp4Echo(Peer4, [1, 2]), 28, 0xFF),
            "icmpv6 checksum" => Set(Icmp6Echo(Peer6, [1, 2]), 48, 0xFF),
            "udp checksum" => Set(Udp4(Peer4, 7, [1, 2]), 28, 0xFF),
            "udp v6 zero checksum" => Set(Set(Udp6(Peer6, 7, [1, 2]), 46, 0), 47, 0),
            "udp length" => Set(Udp4(Peer4, 7, [1, 2], withChecksum: false), 25, 4),
            "icmp truncated" => TruncatedIcmp(),
            "ns hop limit" => NeighborSolicitation(Peer6, hopLimit: 64),
            "ipv6 cut" => Icmp6Echo(Peer6, [1, 2, 3])[..44],
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
        var responder = Create(DeviceMode.Tun);
        Assert.Empty(Process(responder, packet));
        AssertCounted(responder, 0, 0, 1);
        Assert.Equal(1, responder.Counters.GetDropped(reason));

        static byte[] Set(byte[] packet, int index, byte value)
        {
            packet[index] = value;
            return packet;
        }

        static byte[] TruncatedIcmp()
        {
            var buffer = new byte[24];
            Ipv4Packet.WriteHeader(buffer, Kernel4, Peer4, IpProtocol.Icmp, 4);
            return buffer;
        }
    }

    [Fact]
    public void Responder_drops_truncated_frames_on_tap()
    {
        var responder = Create(DeviceMode.Tap);
        Assert.Empty(Process(responder, new byte[13]));
        Assert.Empty(Process(responder, Frame(ArpRequest(Peer4), EtherType.Arp)[..30]));
        Assert.Equal(2, responder.Counters.GetDropped(ResponderDropReason.Truncated));
    }

    [Fact]
    public void Responder_drops_when_the_reply_does_not_fit()
    {
        var responder = Create(DeviceMode.Tun);
        var request = Icmp4Echo(Peer4, new byte[100]);
        Assert.Empty(Process(responder, request, replySize: request.Length - 1));
        Assert.Equal(1, responder.Counters.GetDropped(ResponderDropReason.ReplyTooLarge));
        Assert.Equal(request.Length, Process(responder, request, replySize: request.Length).Length);
    }

    [Fact]
    public void Responder_allocates_nothing_per_packet()
    {
        var responder = Create(DeviceMode.Tap);
        var echo = Frame(Icmp4Echo(Peer4, new byte[56]), EtherType.Ipv4);
        var ns = Frame(NeighborSolicitation(Peer6), EtherType.Ipv6);
        var reply = new byte[2048];
        for (var i = 0; i < 100; i++)
        {
            responder.Process(echo, reply);
            responder.Process(ns, reply);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            responder.Process(echo, reply);
            responder.Process(ns, reply);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(2200, responder.Counters.Replied);
    }

    [Fact]
    public void Responder_never_throws_on_random_bytes_and_every_reply_is_valid()
    {
        var tun = Create(DeviceMode.Tun);
        var tap = Create(DeviceMode.Tap);
        Gen.Byte.Array[0, 120].Sample(bytes =>
        {
            CheckAnyReply(tun, bytes, DeviceMode.Tun);
            CheckAnyReply(tap, bytes, DeviceMode.Tap);
        }, iter: 20_000);
    }

    [Fact]
    public void Responder_never_throws_on_mutated_requests_and_every_reply_is_valid()
    {
        byte[][] seeds =
        [
            Icmp4Echo(Peer4, [1, 2, 3, 4]), Icmp6Echo(Peer6, [5, 6]), Udp4(Peer4, 7, [1]), Udp6(Peer6, 7, [2, 3]),
            NeighborSolicitation(Peer6), NeighborSolicitation(Peer6, Peer6, withOption: false),
        ];
        var tun = Create(DeviceMode.Tun);
        var tap = Create(DeviceMode.Tap);
        Gen.Select(Gen.Int[0, seeds.Length - 1], Gen.Int[0, 200], Gen.Byte, Gen.Int[0, 100]).Sample((seed, index, value, cut) =>
        {
            var packet = (byte[])seeds[seed].Clone();
            packet[index % packet.Length] = value;
            packet = packet[..Math.Max(0, packet.Length - (cut < 80 ? 0 : cut - 80))];
            CheckAnyReply(tun, packet, DeviceMode.Tun);
            var frame = Frame(packet, packet.Length > 0 && packet[0] >> 4 == 6 ? EtherType.Ipv6 : EtherType.Ipv4, MacAddress.FromValue(0x33_33_FF_00_00_02));
            CheckAnyReply(tap, frame, DeviceMode.Tap);
        }, iter: 20_000, threads: 1);
        Assert.True(tun.Counters.Replied > 0);
        Assert.True(tun.Counters.Dropped > 0);
        Assert.Equal(tun.Counters.Received, tun.Counters.Replied + tun.Counters.Ignored + tun.Counters.Dropped);
    }

    private static void CheckAnyReply(PacketResponder responder, byte[] packet, DeviceMode mode)
    {
        var reply = Process(responder, packet);
        if (reply.Length == 0)
        {
            return;
        }

        if (mode == DeviceMode.Tun)
        {
            AssertIpReplyValid(reply);
            return;
        }

        Assert.True(EthernetFrame.TryCreate(reply.AsSpan(), out var frame));
        Assert.Equal(ResponderMac, frame.Source);
        if (frame.EtherType == EtherType.Arp)
        {
            Assert.True(ArpPacket.TryCreate(frame.Payload, out var arp));
            Assert.Equal(ArpOperation.Reply, arp.Operation);
        }
        else
        {
            AssertIpReplyValid(frame.Payload);
        }
    }
}
