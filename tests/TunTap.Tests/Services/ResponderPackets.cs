using System.Net;
using System.Net.NetworkInformation;
using TunTap.Devices;
using TunTap.Services;
using TunTap.Wire;

namespace TunTap.Tests.Services;

/// <summary>Requests as the kernel side (10.9.0.1/24, fd00:9::1/64) would send them, and reply checks.</summary>
internal static class ResponderPackets
{
    public static readonly MacAddress ResponderMac = MacAddress.FromValue(0x02_AA_BB_CC_DD_EE);
    public static readonly MacAddress KernelMac = MacAddress.FromValue(0x02_11_22_33_44_55);
    public static readonly uint Kernel4 = V4("10.9.0.1");
    public static readonly uint Peer4 = V4("10.9.0.2");
    public static readonly byte[] Kernel6 = IPAddress.Parse("fd00:9::1").GetAddressBytes();
    public static readonly byte[] Peer6 = IPAddress.Parse("fd00:9::2").GetAddressBytes();

    public static PacketResponder Create(DeviceMode mode) =>
        new(mode, [InterfaceAddress.Parse("10.9.0.1/24"), InterfaceAddress.Parse("fd00:9::1/64")], new PhysicalAddress([0x02, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE]));

    public static uint V4(string address) => (uint)IPAddress.NetworkToHostOrder(BitConverter.ToInt32(IPAddress.Parse(address).GetAddressBytes()));

    public static byte[] V6(string address) => IPAddress.Parse(address).GetAddressBytes();

    public static byte[] Icmp4Echo(uint destination, byte[] data, byte type = IcmpV4Type.EchoRequest, uint? source = null)
    {
        var buffer = new byte[28 + data.Length];
        var ip = Ipv4Packet.WriteHeader(buffer, source ?? Kernel4, destination, IpProtocol.Icmp, 8 + data.Length, 64, 99, dontFragment: true);
        IcmpV4Packet.WriteEcho(ip.Payload, type, 0x4242, 7, data);
        return buffer;
    }

    public static byte[] Icmp6Echo(byte[] destination, byte[] data, byte type = IcmpV6Type.EchoRequest, byte[]? source = null)
    {
        var buffer = new byte[48 + data.Length];
        var ip = Ipv6Packet.WriteHeader(buffer, source ?? Kernel6, destination, IpProtocol.IcmpV6, 8 + data.Length);
        var icmp = IcmpV6Packet.WriteEcho(ip.Payload, type, 0x4242, 7, data);
        icmp.FillChecksum(ip.PseudoHeaderSum(IpProtocol.IcmpV6, icmp.Buffer.Length));
        return buffer;
    }

    public static byte[] Udp4(uint destination, ushort port, byte[] payload, bool withChecksum = true)
    {
        var buffer = new byte[28 + payload.Length];
        var ip = Ipv4Packet.WriteHeader(buffer, Kernel4, destination, IpProtocol.Udp, 8 + payload.Length);
        var udp = UdpDatagram.WriteHeader(ip.Payload, 40000, port, payload.Length);
        payload.CopyTo(udp.Payload);
        if (withChecksum)
        {
            udp.FillChecksum(udp.PseudoHeaderSum(ip.Source, ip.Destination));
        }

        return buffer;
    }

    public static byte[] Udp6(byte[] destination, ushort port, byte[] payload)
    {
        var buffer = new byte[48 + payload.Length];
        var ip = Ipv6Packet.WriteHeader(buffer, Kernel6, destination, IpProtocol.Udp, 8 + payload.Length);
        var udp = UdpDatagram.WriteHeader(ip.Payload, 40000, port, payload.Length);
        payload.CopyTo(udp.Payload);
        udp.FillChecksum(udp.PseudoHeaderSum(ip.Source, ip.Destination));
        return buffer;
    }

    public static byte[] NeighborSolicitation(byte[] target, byte[]? destination = null, byte[]? source = null, byte hopLimit = 255, bool withOption = true)
    {
        destination ??= SolicitedNode(target);
        var length = 24 + (withOption ? 8 : 0);
        var buffer = new byte[40 + length];
        var ip = Ipv6Packet.WriteHeader(buffer, source ?? Kernel6, destination, IpProtocol.IcmpV6, length, hopLimit);
        var ns = IcmpV6Packet.WriteNeighborMessage(ip.Payload, IcmpV6Type.NeighborSolicitation, target, withOption ? KernelMac : null);
        ns.FillChecksum(ip.PseudoHeaderSum(IpProtocol.IcmpV6, length));
        return buffer;
    }

    public static byte[] SolicitedNode(byte[] target)
    {
        var address = V6("ff02::1:ff00:0");
        address[13] = target[13];
        address[14] = target[14];
        address[15] = target[15];
        return address;
    }

    public static byte[] ArpRequest(uint target, uint sender = 0)
    {
        var buffer = new byte[28];
        ArpPacket.Write(buffer, ArpOperation.Request, KernelMac, sender == 0 ? Kernel4 : sender, default, target);
        return buffer;
    }

    public static byte[] Frame(byte[] payload, ushort etherType, MacAddress? destination = null, bool vlan = false)
    {
        var buffer = new byte[(vlan ? 18 : 14) + payload.Length];
        var header = vlan
            ? EthernetFrame.WriteTaggedHeader(buffer, destination ?? ResponderMac, KernelMac, 9, 1, etherType)
            : EthernetFrame.WriteHeader(buffer, destination ?? ResponderMac, KernelMac, etherType);
        payload.CopyTo(buffer, header);
        return buffer;
    }

    public static byte[] Process(PacketResponder responder, byte[] packet, int replySize = 2048)
    {
        var reply = new byte[replySize];
        var length = responder.Process(packet, reply);
        return reply[..length];
    }

    /// <summary>Asserts that every checksum in an IP packet the responder wrote is valid; returns false for non-IP.</summary>
    public static void AssertIpReplyValid(Span<byte> packet)
    {
        Assert.NotEmpty(packet.ToArray());
        if (packet[0] >> 4 == 4)
        {
            Assert.True(Ipv4Packet.TryCreate(packet, out var ip));
            Assert.Equal(packet.Length, ip.TotalLength);
            Assert.True(ip.VerifyHeaderChecksum());
            Assert.Equal(64, ip.TimeToLive);
            if (ip.Protocol == IpProtocol.Icmp)
            {
                Assert.True(IcmpV4Packet.TryCreate(ip.Payload, out var icmp));
                Assert.True(icmp.VerifyChecksum());
                Assert.Equal(IcmpV4Type.EchoReply, icmp.Type);
            }
            else
            {
                Assert.Equal(IpProtocol.Udp, ip.Protocol);
                Assert.True(UdpDatagram.TryCreate(ip.Payload, out var udp));
                Assert.True(udp.VerifyChecksum(udp.PseudoHeaderSum(ip.Source, ip.Destination)));
                Assert.Equal(7, udp.SourcePort);
            }
        }
        else
        {
            Assert.True(Ipv6Packet.TryCreate(packet, out var ip));
            Assert.Equal(packet.Length, ip.Buffer.Length);
            if (ip.NextHeader == IpProtocol.IcmpV6)
            {
                Assert.True(IcmpV6Packet.TryCreate(ip.Payload, out var icmp));
                Assert.True(icmp.VerifyChecksum(ip.PseudoHeaderSum(IpProtocol.IcmpV6, icmp.Buffer.Length)));
                Assert.True(icmp.Type is IcmpV6Type.EchoReply or IcmpV6Type.NeighborAdvertisement);
                Assert.Equal(icmp.Type == IcmpV6Type.EchoReply ? 64 : 255, ip.HopLimit);
            }
            else
            {
                Assert.Equal(IpProtocol.Udp, ip.NextHeader);
                Assert.True(UdpDatagram.TryCreate(ip.Payload, out var udp));
                Assert.True(udp.VerifyChecksum(udp.PseudoHeaderSum(ip.Source, ip.Destination)));
                Assert.Equal(64, ip.HopLimit);
            }
        }
    }
}
