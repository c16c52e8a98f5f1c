using System.Buffers.Binary;
using System.Net;
using TunTap.Switching.Dhcp;
using TunTap.Wire;

namespace TunTap.Tests.Switching.Dhcp;

/// <summary>Client messages and reply readers for the DHCP tests.</summary>
internal static class DhcpFrames
{
    /// <summary>A DISCOVER made by scapy 2.5 (an independent implementation): chaddr 52:54:00:12:34:56, xid 0x1234abcd, requested 10.0.0.150, host name vm1.</summary>
    public const string ScapyDiscover =
        "ffffffffffff52540012345608004500012200010000401179cb00000000ffffffff00440043010e447b010106001234abcd0000000000000000000000000000000000000000525400123456" +
        "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" +
        "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" +
        "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000006382536335010132040a0000960c03766d3137050103063336ff";

    public static uint Ip(string text) => BinaryPrimitives.ReadUInt32BigEndian(IPAddress.Parse(text).GetAddressBytes());

    public static MacAddress Mac(int n) => MacAddress.FromValue(0x5254_0000_0000UL | (uint)n);

    /// <summary>A client's message in a whole frame (broadcast from 0.0.0.0 unless <paramref name="source"/> is set).</summary>
    public static byte[] Client(
        DhcpMessageType type,
        MacAddress mac,
        uint transactionId = 0x11223344,
        uint requested = 0,
        uint serverId = 0,
        uint clientAddress = 0,
        bool broadcast = false,
        uint relay = 0,
        uint source = 0,
        uint destination = 0xFFFF_FFFF,
        string? hostName = null,
        byte op = DhcpMessage.BootRequest)
    {
        var frame = new byte[14 + 20 + 8 + 300];
        Span<byte> chaddr = stackalloc byte[6];
        mac.WriteTo(chaddr);
        var body = frame.AsSpan(42);
        var message = DhcpMessage.WriteHeader(body, op, transactionId, broadcast ? DhcpMessage.BroadcastFlag : (ushort)0, clientAddress, 0, 0, relay, chaddr);
        var options = new DhcpOptionWriter(message.Options);
        options.WriteByte(DhcpOptionCode.MessageType, (byte)type);
        if (requested != 0)
        {
            options.WriteUInt32(DhcpOptionCode.RequestedAddress, requested);
        }

        if (serverId != 0)
        {
            options.WriteUInt32(DhcpOptionCode.ServerIdentifier, serverId);
        }

        if (hostName is not null)
        {
            options.Write(DhcpOptionCode.HostName, System.Text.Encoding.ASCII.GetBytes(hostName));
        }

        options.Write(DhcpOptionCode.ParameterRequestList, [1, 3, 6, 51, 54]);
        options.WriteEnd();
        EthernetFrame.WriteHeader(frame, destination == 0xFFFF_FFFF ? MacAddress.Broadcast : MacAddress.FromValue(0x02_0000_0000_01), mac, EtherType.Ipv4);
        var ip = Ipv4Packet.WriteHeader(frame.AsSpan(14), source, destination, IpProtocol.Udp, 8 + 300);
        var udp = UdpDatagram.WriteHeader(ip.Payload, DhcpMessage.ClientPort, DhcpMessage.ServerPort, 300);
        udp.FillChecksum(udp.PseudoHeaderSum(source, destination));
        return frame;
    }

    /// <summary>A reply frame taken apart, every layer checked.</summary>
    public sealed record Reply(MacAddress EthernetDestination, MacAddress EthernetSource, uint IpSource, uint IpDestination, DhcpMessageType Type, uint TransactionId, uint YourAddress, uint ClientAddress, bool Broadcast, MacAddress ClientMac, Dictionary<byte, byte[]> Options, int MessageLength)
    {
        public uint Address(byte code) => BinaryPrimitives.ReadUInt32BigEndian(Options[code]);
    }

    public static Reply Parse(ReadOnlySpan<byte> frame)
    {
        Assert.True(EthernetFrame.TryCreate(frame, out var ethernet));
        Assert.Equal(EtherType.Ipv4, ethernet.EtherType);
        Assert.True(Ipv4Packet.TryCreate(ethernet.ReadOnlyPayload, out var ip));
        Assert.True(ip.VerifyHeaderChecksum());
        Assert.Equal(IpProtocol.Udp, ip.Protocol);
        Assert.True(UdpDatagram.TryCreate(ip.ReadOnlyPayload, out var udp));
        Assert.True(udp.VerifyChecksum(udp.PseudoHeaderSum(ip.Source, ip.Destination)), "UDP checksum");
        Assert.Equal(DhcpMessage.ServerPort, udp.SourcePort);
        Assert.Equal(DhcpMessage.ClientPort, udp.DestinationPort);
        Assert.True(DhcpMessage.TryCreate(udp.ReadOnlyPayload, out var message));
        Assert.Equal(DhcpMessage.BootReply, message.Op);
        var options = new Dictionary<byte, byte[]>();
        foreach (var code in new byte[] { 1, 3, 6, 51, 53, 54, 58, 59 })
        {
            if (message.TryGetOption(code, out var value))
            {
                options[code] = value.ToArray();
            }
        }

        return new Reply(ethernet.Destination, ethernet.Source, ip.Source, ip.Destination, message.MessageType, message.TransactionId, message.YourAddress, message.ClientAddress, message.Broadcast, message.ClientMac, options, udp.ReadOnlyPayload.Length);
    }
}
