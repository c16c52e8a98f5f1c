using System.Buffers.Binary;
using System.Net;
using TunTap.Devices;
using TunTap.Netlink;

namespace TunTap.Tests.Netlink;

public sealed class RtnlMessageTests
{
    [Fact]
    public void Kernel_link_reply_of_a_tap_decodes_every_tun_setting()
    {
        Assert.True(LinkMessage.TryParse(CapturedReplies.TapLink, out var link));

        Assert.Equal(4, link!.Index);
        Assert.Equal("t0", link.Name);
        Assert.Equal("tun", link.Kind);
        Assert.Equal(1500, link.Mtu);
        Assert.False(link.IsUp);
        Assert.False(link.HasCarrier);
        Assert.Equal([0xe6, 0xab, 0xe1, 0xf2, 0xc2, 0xd3], link.Address!.GetAddressBytes());
        Assert.Equal(new TunLinkInfo(DeviceMode.Tap, Persist: true, MultiQueue: true, NumQueues: 0, NumDisabledQueues: 0, VnetHeader: true, PacketInfo: false, Owner: 1234, Group: 4321), link.Tun);
    }

    [Fact]
    public void Kernel_address_reply_decodes_the_ipv6_address()
    {
        Assert.True(AddressMessage.TryParse(CapturedReplies.Ipv6Address, out var address));

        Assert.Equal(new AddressInfo(3, InterfaceAddress.Parse("fd00::5/64")), address);
    }

    [Fact]
    public void Kernel_route_replies_decode_destination_device_source_and_metric()
    {
        Assert.True(RouteMessage.TryParse(CapturedReplies.ConnectedRoute, out var connected, out var table));
        Assert.Equal(254u, table);
        Assert.Equal(InterfaceAddress.Parse("10.0.0.0/24"), connected!.Destination);
        Assert.Equal(3, connected.InterfaceIndex);
        Assert.Equal(IPAddress.Parse("10.0.0.1"), connected.PreferredSource);
        Assert.Null(connected.Gateway);
        Assert.Null(connected.Metric);
        Assert.Equal(NetlinkProtocol.RtScopeLink, connected.Scope);
        Assert.Equal(2, connected.Protocol);

        Assert.True(RouteMessage.TryParse(CapturedReplies.MetricRoute, out var metric, out _));
        Assert.Equal(InterfaceAddress.Parse("10.9.0.0/16"), metric!.Destination);
        Assert.Equal(42, metric.Metric);
        Assert.Equal(NetlinkProtocol.RtProtBoot, metric.Protocol);
    }

    [Fact]
    public void Address_add_request_matches_the_bytes_iproute2_sends()
    {
        // strace of 'ip addr add 10.0.0.1/24 dev va' (ifindex 3), after the netlink header.
        var iproute2 = Convert.FromHexString("0218000003000000080002000a000001080001000a000001");
        var buffer = new byte[128];
        var writer = new NetlinkMessageWriter(buffer);

        AddressMessage.WriteAdd(ref writer, 9, 3, InterfaceAddress.Parse("10.0.0.1/24"), noDad: true);

        var reader = new NetlinkMessageReader(writer.Written);
        Assert.True(reader.TryRead(out var message));
        Assert.Equal(NetlinkProtocol.NewAddr, message.Type);
        Assert.Equal(0x605, message.Flags);
        Assert.Equal(9u, message.Sequence);
        Assert.Equal(iproute2, message.Payload.ToArray());
    }

    [Fact]
    public void Ipv6_address_add_with_no_dad_sets_the_flag_in_header_and_attribute()
    {
        var buffer = new byte[128];
        var writer = new NetlinkMessageWriter(buffer);
        AddressMessage.WriteAdd(ref writer, 1, 5, InterfaceAddress.Parse("fd00::1/64"), noDad: true);
        var reader = new NetlinkMessageReader(writer.Written);
        Assert.True(reader.TryRead(out var message));

        Assert.Equal(NetlinkProtocol.AfInet6, message.Payload[0]);
        Assert.Equal(64, message.Payload[1]);
        Assert.Equal((byte)NetlinkProtocol.IfaFNoDad, message.Payload[2]);
        var attributes = new NetlinkAttributeReader(message.Payload[NetlinkProtocol.IfAddrSize..]);
        var types = new List<ushort>();
        while (attributes.TryRead(out var attribute))
        {
            types.Add(attribute.Type);
            if (attribute.Type == NetlinkProtocol.IfaFlags)
            {
                Assert.True(attribute.TryGetU32(out var flags));
                Assert.Equal(NetlinkProtocol.IfaFNoDad, flags);
            }
        }

        Assert.Equal([NetlinkProtocol.IfaLocal, NetlinkProtocol.IfaAddress, NetlinkProtocol.IfaFlags], types);
        Assert.True(AddressMessage.TryParse(message.Payload, out var parsed));
        Assert.Equal(InterfaceAddress.Parse("fd00::1/64"), parsed!.Address);
    }

    [Fact]
    public void Veth_request_nests_the_peer_after_its_own_ifinfomsg()
    {
        var buffer = new byte[256];
        var writer = new NetlinkMessageWriter(buffer);
        LinkMessage.WriteCreateVeth(ref writer, 1, "va", "vb", 42);
        var reader = new NetlinkMessageReader(writer.Written);
        Assert.True(reader.TryRead(out var message));
        Assert.Equal(NetlinkProtocol.Request | NetlinkProtocol.Ack | NetlinkProtocol.Create | NetlinkProtocol.Exclusive, message.Flags);

        var attributes = new NetlinkAttributeReader(message.Payload[NetlinkProtocol.IfInfoSize..]);
        Assert.True(attributes.TryRead(out var name));
        Assert.Equal("va", name.GetString());
        Assert.True(attributes.TryRead(out var linkInfo));
        Assert.Equal(NetlinkProtocol.IflaLinkInfo, linkInfo.Type);
        var info = linkInfo.Nested;
        Assert.True(info.TryRead(out var kind));
        Assert.Equal("veth", kind.GetString());
        Assert.True(info.TryRead(out var data));
        var peerReader = data.Nested;
        Assert.True(peerReader.TryRead(out var peer));
        Assert.Equal(NetlinkProtocol.VethInfoPeer, peer.Type);
        var peerAttributes = new NetlinkAttributeReader(peer.Payload[NetlinkProtocol.IfInfoSize..]);
        Assert.True(peerAttributes.TryRead(out var peerName));
        Assert.Equal("vb", peerName.GetString());
        Assert.True(peerAttributes.TryRead(out var netns));
        Assert.Equal(NetlinkProtocol.IflaNetNsFd, netns.Type);
        Assert.True(netns.TryGetU32(out var fd));
        Assert.Equal(42u, fd);
        Assert.False(attributes.TryRead(out _));
    }

    [Fact]
    public void Route_request_masks_host_bits_and_uses_link_scope_without_gateway()
    {
        var buffer = new byte[128];
        var writer = new NetlinkMessageWriter(buffer);
        RouteMessage.WriteAdd(ref writer, 1, new RouteSpec(InterfaceAddress.Parse("10.1.2.3/16"), Metric: 7), 3);
        var reader = new NetlinkMessageReader(writer.Written);
        Assert.True(reader.TryRead(out var message));

        Assert.True(RouteMessage.TryParse(message.Payload, out var route, out var table));
        Assert.Equal(254u, table);
        Assert.Equal(InterfaceAddress.Parse("10.1.0.0/16"), route!.Destination);
        Assert.Equal(3, route.InterfaceIndex);
        Assert.Equal(7, route.Metric);
        Assert.Equal(NetlinkProtocol.RtScopeLink, route.Scope);
        Assert.Equal(NetlinkProtocol.RtnUnicast, route.Type);
    }

    [Fact]
    public void Default_route_request_has_no_destination_attribute()
    {
        var buffer = new byte[128];
        var writer = new NetlinkMessageWriter(buffer);
        RouteMessage.WriteAdd(ref writer, 1, new RouteSpec(InterfaceAddress.Parse("::/0"), IPAddress.Parse("fd00::1")), null);
        var reader = new NetlinkMessageReader(writer.Written);
        Assert.True(reader.TryRead(out var message));

        var attributes = new NetlinkAttributeReader(message.Payload[NetlinkProtocol.RtMsgSize..]);
        Assert.True(attributes.TryRead(out var only));
        Assert.Equal(NetlinkProtocol.RtaGateway, only.Type);
        Assert.False(attributes.TryRead(out _));
        Assert.True(RouteMessage.TryParse(message.Payload, out var route, out _));
        Assert.Equal(InterfaceAddress.Parse("::/0"), route!.Destination);
        Assert.Equal(NetlinkProtocol.RtScopeUniverse, route.Scope);
    }

    [Fact]
    public void Link_without_a_name_or_header_is_rejected()
    {
        Assert.False(LinkMessage.TryParse(new byte[NetlinkProtocol.IfInfoSize - 1], out _));
        Assert.False(LinkMessage.TryParse(new byte[NetlinkProtocol.IfInfoSize], out _));
        var withName = new byte[NetlinkProtocol.IfInfoSize + 8];
        BinaryPrimitives.WriteUInt16LittleEndian(withName.AsSpan(16), 7);
        BinaryPrimitives.WriteUInt16LittleEndian(withName.AsSpan(18), NetlinkProtocol.IflaIfName);
        "lo\0"u8.CopyTo(withName.AsSpan(20));
        Assert.True(LinkMessage.TryParse(withName, out var link));
        Assert.Equal("lo", link!.Name);
        Assert.Null(link.Kind);
        Assert.Null(link.Tun);
        Assert.Null(link.Address);
    }
}
