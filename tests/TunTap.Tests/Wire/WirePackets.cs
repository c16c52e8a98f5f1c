using System.Net;
using TunTap.Wire;

namespace TunTap.Tests.Wire;

/// <summary>Valid sample packets built with the Wire builders.</summary>
internal static class WirePackets
{
    public static readonly MacAddress MacA = MacAddress.FromValue(0x02_00_00_00_00_0A);
    public static readonly MacAddress MacB = MacAddress.FromValue(0x02_00_00_00_00_0B);
    public const uint V4A = 0x0A09_0001;
    public const uint V4B = 0x0A09_0002;
    public static readonly byte[] V6A = IPAddress.Parse("fd00:9::1").GetAddressBytes();
    public static readonly byte[] V6B = IPAddress.Parse("fd00:9::2").GetAddressBytes();

    public static IEnumerable<byte[]> All()
    {
        yield return Ipv4Udp([1, 2, 3, 4, 5]);
        yield return Ipv4IcmpEcho([9, 8, 7]);
        yield return Ipv6Udp([1, 2, 3]);
        yield return Ipv6Tcp();
        yield return Ipv6WithHopByHop();
        yield return Ethernet(Ipv4Udp([1, 2, 3]), EtherType.Ipv4, vlan: false);
        yield return Ethernet(Arp(), EtherType.Arp, vlan: true);
        yield return Ipv6NeighborSolicitation();
    }

    public static byte[] Ipv4Udp(byte[] payload)
    {
        var buffer = new byte[20 + 8 + payload.Length];
        var ip = Ipv4Packet.WriteHeader(buffer, V4A, V4B, IpProtocol.Udp, 8 + payload.Length, identification: 77, dontFragment: true);
        var udp = UdpDatagram.WriteHeader(ip.Payload, 5000, 7, payload.Length);
        payload.CopyTo(udp.Payload);
        udp.FillChecksum(udp.PseudoHeaderSum(V4A, V4B));
        return buffer;
    }

    public static byte[] Ipv4IcmpEcho(byte[] data)
    {
        var buffer = new byte[20 + 8 + data.Length];
        var ip = Ipv4Packet.WriteHeader(buffer, V4A, V4B, IpProtocol.Icmp, 8 + data.Length);
        IcmpV4Packet.WriteEcho(ip.Payload, IcmpV4Type.EchoRequest, 0x1234, 1, data);
        return buffer;
    }

    public static byte[] Ipv6Udp(byte[] payload)
    {
        var buffer = new byte[40 + 8 + payload.Length];
        var ip = Ipv6Packet.WriteHeader(buffer, V6A, V6B, IpProtocol.Udp, 8 + payload.Length);
        var udp = UdpDatagram.WriteHeader(ip.Payload, 5000, 7, payload.Length);
        payload.CopyTo(udp.Payload);
        udp.FillChecksum(udp.PseudoHeaderSum(V6A, V6B));
        return buffer;
    }

    public static byte[] Ipv6Tcp()
    {
        byte[] options = [2, 4, 0x05, 0xB4, 1, 3, 3, 7, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2];
        var buffer = new byte[40 + 20 + options.Length + 4];
        var ip = Ipv6Packet.WriteHeader(buffer, V6A, V6B, IpProtocol.Tcp, 20 + options.Length + 4);
        var tcp = TcpSegment.WriteHeader(ip.Payload, 40000, 80, 1000, 2000, TcpFlags.Syn | TcpFlags.Ack, 65535, options, 4);
        tcp.FillChecksum(ip.PseudoHeaderSum(IpProtocol.Tcp, tcp.Buffer.Length));
        return buffer;
    }

    public static byte[] Ipv6WithHopByHop()
    {
        // Hop-by-Hop header (8 bytes: next = ICMPv6, length 0, PadN) in front of an echo request.
        var buffer = new byte[40 + 8 + 12];
        var ip = Ipv6Packet.WriteHeader(buffer, V6A, V6B, IpProtocol.HopByHop, 8 + 12);
        ip.Payload[0] = IpProtocol.IcmpV6;
        ip.Payload[1] = 0;
        ip.Payload[2] = 1;
        ip.Payload[3] = 4;
        var icmp = IcmpV6Packet.WriteEcho(ip.Payload[8..], IcmpV6Type.EchoRequest, 7, 9, [1, 2, 3, 4]);
        icmp.FillChecksum(ip.PseudoHeaderSum(IpProtocol.IcmpV6, icmp.Buffer.Length));
        return buffer;
    }

    public static byte[] Ipv6NeighborSolicitation()
    {
        var buffer = new byte[40 + 32];
        var ip = Ipv6Packet.WriteHeader(buffer, V6A, V6B, IpProtocol.IcmpV6, 32, hopLimit: 255);
        var ns = IcmpV6Packet.WriteNeighborMessage(ip.Payload, IcmpV6Type.NeighborSolicitation, V6B, MacA);
        ns.FillChecksum(ip.PseudoHeaderSum(IpProtocol.IcmpV6, ns.Buffer.Length));
        return buffer;
    }

    public static byte[] Arp()
    {
        var buffer = new byte[ArpPacket.Length];
        ArpPacket.Write(buffer, ArpOperation.Request, MacA, V4A, default, V4B);
        return buffer;
    }

    public static byte[] Ethernet(byte[] payload, ushort etherType, bool vlan)
    {
        var buffer = new byte[(vlan ? 18 : 14) + payload.Length];
        var header = vlan
            ? EthernetFrame.WriteTaggedHeader(buffer, MacB, MacA, 42, 5, etherType)
            : EthernetFrame.WriteHeader(buffer, MacB, MacA, etherType);
        payload.CopyTo(buffer, header);
        return buffer;
    }
}
