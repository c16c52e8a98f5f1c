using System.Buffers.Binary;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using TunTap.Devices;
using TunTap.Wire;

namespace TunTap.Services;

/// <summary>
/// Answers packets read from a TUN/TAP device as every host of the device's prefixes other than
/// the kernel itself: ARP and neighbor solicitations (tap), ICMP/ICMPv6 echo, and UDP echo on
/// port 7. Pure: bytes in, bytes out, no I/O and no allocation per packet; malformed input is
/// counted and dropped, never thrown.
/// </summary>
public sealed class PacketResponder
{
    /// <summary>The UDP echo port (RFC 862).</summary>
    public const ushort EchoPort = 7;

    /// <summary>TTL / hop limit of replies (neighbor advertisements use 255, as RFC 4861 requires).</summary>
    public const byte ReplyHopLimit = 64;

    private const byte NdpHopLimit = 255;
    private const int Ignore = 0;

    private static readonly UInt128 SolicitedNodePrefix = new(0xFF02_0000_0000_0000, 0x0000_0001_FF00_0000);

    private readonly DeviceMode _mode;
    private readonly MacAddress _mac;
    private readonly Ipv4Prefix[] _ipv4;
    private readonly Ipv6Prefix[] _ipv6;

    /// <summary>
    /// Creates a responder for a device in <paramref name="mode"/> whose kernel side has
    /// <paramref name="addresses"/>; <paramref name="mac"/> is the responder's own MAC (tap).
    /// </summary>
    /// <exception cref="ArgumentException">In tap mode, <paramref name="mac"/> is not six bytes.</exception>
    public PacketResponder(DeviceMode mode, IReadOnlyList<InterfaceAddress> addresses, PhysicalAddress mac)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        ArgumentNullException.ThrowIfNull(mac);
        _mode = mode;
        var macBytes = mac.GetAddressBytes();
        if (macBytes.Length == MacAddress.Length)
        {
            _mac = MacAddress.Read(macBytes);
        }
        else if (mode == DeviceMode.Tap)
        {
            throw new ArgumentException("a tap responder needs a six-byte MAC address", nameof(mac));
        }

        var ipv4 = new List<Ipv4Prefix>();
        var ipv6 = new List<Ipv6Prefix>();
        Span<byte> bytes = stackalloc byte[16];
        foreach (var address in addresses)
        {
            if (!address.Address.TryWriteBytes(bytes, out var length))
            {
                continue;
            }

            if (address.Address.AddressFamily == AddressFamily.InterNetwork && length == 4)
            {
                ipv4.Add(new Ipv4Prefix(BinaryPrimitives.ReadUInt32BigEndian(bytes), address.PrefixLength));
            }
            else if (address.Address.AddressFamily == AddressFamily.InterNetworkV6 && length == 16)
            {
                ipv6.Add(new Ipv6Prefix(BinaryPrimitives.ReadUInt128BigEndian(bytes), address.PrefixLength));
            }
        }

        _ipv4 = [.. ipv4];
        _ipv6 = [.. ipv6];
    }

    /// <summary>What the responder did so far.</summary>
    public ResponderCounters Counters { get; } = new();

    /// <summary>
    /// Handles one packet (an IP packet in tun mode, an Ethernet frame in tap mode) and writes the
    /// answer, if any, into <paramref name="reply"/>.
    /// </summary>
    /// <returns>The reply length written into <paramref name="reply"/>, or 0 for no reply.</returns>
    public int Process(ReadOnlySpan<byte> packet, Span<byte> reply)
    {
        var verdict = _mode == DeviceMode.Tap ? ProcessFrame(packet, reply) : ProcessIp(packet, reply);
        if (verdict > 0)
        {
            Counters.CountReplied();
            return verdict;
        }

        if (verdict == Ignore)
        {
            Counters.CountIgnored();
        }
        else
        {
            Counters.CountDropped((ResponderDropReason)(-verdict - 1));
        }

        return 0;
    }

    private static int Drop(ResponderDropReason reason) => -(int)reason - 1;

    private static int Drop(WireError error) =>
        Drop(error == WireError.Truncated ? ResponderDropReason.Truncated : ResponderDropReason.Malformed);

    private int ProcessFrame(ReadOnlySpan<byte> packet, Span<byte> reply)
    {
        if (!EthernetFrame.TryCreate(packet, out var frame))
        {
            return Drop(EthernetFrame.Validate(packet));
        }

        var destination = frame.Destination;
        if (destination != _mac && !destination.IsMulticast)
        {
            return Ignore;
        }

        if (frame.Source.IsMulticast)
        {
            return Drop(ResponderDropReason.Malformed);
        }

        var etherType = frame.EtherType;
        if (etherType is not (EtherType.Arp or EtherType.Ipv4 or EtherType.Ipv6))
        {
            return Ignore;
        }

        var link = new LinkReply(frame.Source, frame.HasVlanTag, frame.VlanId, frame.Priority);
        var headerLength = frame.HeaderLength;
        if (reply.Length < headerLength)
        {
            return Drop(ResponderDropReason.ReplyTooLarge);
        }

        var length = etherType == EtherType.Arp
            ? ProcessArp(frame.ReadOnlyPayload, reply[headerLength..])
            : ProcessIp(frame.ReadOnlyPayload, reply[headerLength..]);
        if (length <= 0)
        {
            return length;
        }

        if (link.Tagged)
        {
            EthernetFrame.WriteTaggedHeader(reply, link.Peer, _mac, link.VlanId, link.Priority, etherType);
        }
        else
        {
            EthernetFrame.WriteHeader(reply, link.Peer, _mac, etherType);
        }

        return headerLength + length;
    }

    private int ProcessArp(ReadOnlySpan<byte> packet, Span<byte> reply)
    {
        if (!ArpPacket.TryCreate(packet, out var arp))
        {
            // Validated again only to say why: well-formed ARP for other hardware is not ours.
            var error = ArpPacket.Validate(packet);
            return error == WireError.Unsupported ? Ignore : Drop(error);
        }

        var target = arp.TargetProtocolAddress;
        var sender = arp.SenderProtocolAddress;
        if (arp.Operation != ArpOperation.Request || sender == target || !IsOurIpv4(target))
        {
            return Ignore;
        }

        if (reply.Length < ArpPacket.Length)
        {
            return Drop(ResponderDropReason.ReplyTooLarge);
        }

        return ArpPacket.Write(reply, ArpOperation.Reply, _mac, target, arp.SenderHardwareAddress, sender);
    }

    private int ProcessIp(ReadOnlySpan<byte> packet, Span<byte> reply)
    {
        if (packet.IsEmpty)
        {
            return Drop(ResponderDropReason.Truncated);
        }

        return (packet[0] >> 4) switch
        {
            4 => ProcessIpv4(packet, reply),
            6 => ProcessIpv6(packet, reply),
            _ => Drop(ResponderDropReason.Malformed),
        };
    }

    private int ProcessIpv4(ReadOnlySpan<byte> packet, Span<byte> reply)
    {
        if (!Ipv4Packet.TryCreate(packet, out var ip))
        {
            return Drop(Ipv4Packet.Validate(packet));
        }

        if (!ip.VerifyHeaderChecksum())
        {
            return Drop(ResponderDropReason.BadChecksum);
        }

        var source = ip.Source;
        if (!IsOurIpv4(ip.Destination) || ip.IsFragment || !IsUnicastIpv4(source))
        {
            return Ignore;
        }

        return ip.Protocol switch
        {
            IpProtocol.Icmp => AnswerIcmpV4(ip, reply),
            IpProtocol.Udp => AnswerUdpV4(ip, reply),
            _ => Ignore,
        };
    }

    private static int AnswerIcmpV4(Ipv4Packet ip, Span<byte> reply)
    {
        if (!IcmpV4Packet.TryCreate(ip.ReadOnlyPayload, out var request))
        {
            return Drop(ResponderDropReason.Truncated);
        }

        if (request.Type != IcmpV4Type.EchoRequest)
        {
            return Ignore;
        }

        if (!request.VerifyChecksum())
        {
            return Drop(ResponderDropReason.BadChecksum);
        }

        var length = Ipv4Packet.MinimumHeaderLength + request.ReadOnlyBuffer.Length;
        if (reply.Length < length || length > Ipv4Packet.MaximumLength)
        {
            return Drop(ResponderDropReason.ReplyTooLarge);
        }

        var answer = Ipv4Packet.WriteHeader(reply, ip.Destination, ip.Source, IpProtocol.Icmp, request.ReadOnlyBuffer.Length, ReplyHopLimit, ip.Identification);
        request.ReadOnlyBuffer.CopyTo(answer.Payload);
        IcmpV4Packet.TryCreate(answer.Payload, out var echo);
        echo.Type = IcmpV4Type.EchoReply;
        echo.Code = 0;
        echo.FillChecksum();
        return length;
    }

    private static int AnswerUdpV4(Ipv4Packet ip, Span<byte> reply)
    {
        if (!UdpDatagram.TryCreate(ip.ReadOnlyPayload, out var request))
        {
            return Drop(UdpDatagram.Validate(ip.ReadOnlyPayload));
        }

        if (request.DestinationPort != EchoPort || request.SourcePort == 0)
        {
            return Ignore;
        }

        if (request.Checksum != 0 && !request.VerifyChecksum(request.PseudoHeaderSum(ip.Source, ip.Destination)))
        {
            return Drop(ResponderDropReason.BadChecksum);
        }

        var length = Ipv4Packet.MinimumHeaderLength + request.Length;
        if (reply.Length < length || length > Ipv4Packet.MaximumLength)
        {
            return Drop(ResponderDropReason.ReplyTooLarge);
        }

        var answer = Ipv4Packet.WriteHeader(reply, ip.Destination, ip.Source, IpProtocol.Udp, request.Length, ReplyHopLimit, ip.Identification);
        var echo = UdpDatagram.WriteHeader(answer.Payload, EchoPort, request.SourcePort, request.ReadOnlyPayload.Length);
        request.ReadOnlyPayload.CopyTo(echo.Payload);
        echo.FillChecksum(echo.PseudoHeaderSum(answer.Source, answer.Destination));
        return length;
    }

    private int ProcessIpv6(ReadOnlySpan<byte> packet, Span<byte> reply)
    {
        if (!Ipv6Packet.TryCreate(packet, out var ip))
        {
            return Drop(Ipv6Packet.Validate(packet));
        }

        if (!ip.TryGetUpperLayer(out var protocol, out var offset))
        {
            return Drop(ResponderDropReason.Malformed);
        }

        if (ip.ReadOnlySource[0] == 0xFF)
        {
            return Ignore;
        }

        var upper = ip.ReadOnlyBuffer[offset..];
        return protocol switch
        {
            IpProtocol.IcmpV6 => AnswerIcmpV6(ip, upper, reply),
            IpProtocol.Udp => AnswerUdpV6(ip, upper, reply),
            _ => Ignore,
        };
    }

    private int AnswerIcmpV6(Ipv6Packet ip, ReadOnlySpan<byte> message, Span<byte> reply)
    {
        if (!IcmpV6Packet.TryCreate(message, out var request))
        {
            return Drop(ResponderDropReason.Truncated);
        }

        return request.Type switch
        {
            IcmpV6Type.EchoRequest => AnswerEchoV6(ip, request, reply),
            IcmpV6Type.NeighborSolicitation => AnswerNeighborSolicitation(ip, request, reply),
            _ => Ignore,
        };
    }

    private int AnswerEchoV6(Ipv6Packet ip, IcmpV6Packet request, Span<byte> reply)
    {
        if (!IsOurIpv6(BinaryPrimitives.ReadUInt128BigEndian(ip.ReadOnlyDestination)))
        {
            return Ignore;
        }

        if (!request.VerifyChecksum(ip.PseudoHeaderSum(IpProtocol.IcmpV6, request.ReadOnlyBuffer.Length)))
        {
            return Drop(ResponderDropReason.BadChecksum);
        }

        var length = Ipv6Packet.HeaderLength + request.ReadOnlyBuffer.Length;
        if (reply.Length < length || request.ReadOnlyBuffer.Length > ushort.MaxValue)
        {
            return Drop(ResponderDropReason.ReplyTooLarge);
        }

        var answer = Ipv6Packet.WriteHeader(reply, ip.ReadOnlyDestination, ip.ReadOnlySource, IpProtocol.IcmpV6, request.ReadOnlyBuffer.Length, ReplyHopLimit);
        request.ReadOnlyBuffer.CopyTo(answer.Payload);
        IcmpV6Packet.TryCreate(answer.Payload, out var echo);
        echo.Type = IcmpV6Type.EchoReply;
        echo.Code = 0;
        echo.FillChecksum(answer.PseudoHeaderSum(IpProtocol.IcmpV6, echo.Buffer.Length));
        return length;
    }

    private int AnswerNeighborSolicitation(Ipv6Packet ip, IcmpV6Packet request, Span<byte> reply)
    {
        // RFC 4861 7.1.1: hop limit 255, code 0, at least 24 bytes, sane options, no multicast target.
        if (!request.HasTargetAddress)
        {
            return Drop(ResponderDropReason.Truncated);
        }

        if (ip.HopLimit != NdpHopLimit || request.Code != 0 || request.ReadOnlyTargetAddress[0] == 0xFF || !request.NdpOptionsAreValid())
        {
            return Drop(ResponderDropReason.Malformed);
        }

        if (!request.VerifyChecksum(ip.PseudoHeaderSum(IpProtocol.IcmpV6, request.ReadOnlyBuffer.Length)))
        {
            return Drop(ResponderDropReason.BadChecksum);
        }

        var target = BinaryPrimitives.ReadUInt128BigEndian(request.ReadOnlyTargetAddress);
        var destination = BinaryPrimitives.ReadUInt128BigEndian(ip.ReadOnlyDestination);
        var source = BinaryPrimitives.ReadUInt128BigEndian(ip.ReadOnlySource);
        if (!IsOurIpv6(target) || source == UInt128.Zero ||
            (destination != target && destination != (SolicitedNodePrefix | (target & 0xFF_FFFF))))
        {
            // Not ours, duplicate address detection (answered by silence), or sent elsewhere.
            return Ignore;
        }

        MacAddress? option = _mode == DeviceMode.Tap ? _mac : null;
        var messageLength = IcmpV6Packet.NeighborMessageLength + (option.HasValue ? IcmpV6Packet.LinkLayerAddressOptionLength : 0);
        var length = Ipv6Packet.HeaderLength + messageLength;
        if (reply.Length < length)
        {
            return Drop(ResponderDropReason.ReplyTooLarge);
        }

        var answer = Ipv6Packet.WriteHeader(reply, request.ReadOnlyTargetAddress, ip.ReadOnlySource, IpProtocol.IcmpV6, messageLength, NdpHopLimit);
        var advertisement = IcmpV6Packet.WriteNeighborMessage(answer.Payload, IcmpV6Type.NeighborAdvertisement, request.ReadOnlyTargetAddress, option);
        advertisement.SolicitedFlag = true;
        advertisement.OverrideFlag = true;
        advertisement.FillChecksum(answer.PseudoHeaderSum(IpProtocol.IcmpV6, messageLength));
        return length;
    }

    private int AnswerUdpV6(Ipv6Packet ip, ReadOnlySpan<byte> datagram, Span<byte> reply)
    {
        if (!UdpDatagram.TryCreate(datagram, out var request))
        {
            return Drop(UdpDatagram.Validate(datagram));
        }

        if (request.DestinationPort != EchoPort || request.SourcePort == 0 || !IsOurIpv6(BinaryPrimitives.ReadUInt128BigEndian(ip.ReadOnlyDestination)))
        {
            return Ignore;
        }

        if (!request.VerifyChecksum(request.PseudoHeaderSum(ip.ReadOnlySource, ip.ReadOnlyDestination)))
        {
            return Drop(ResponderDropReason.BadChecksum);
        }

        var length = Ipv6Packet.HeaderLength + request.Length;
        if (reply.Length < length)
        {
            return Drop(ResponderDropReason.ReplyTooLarge);
        }

        var answer = Ipv6Packet.WriteHeader(reply, ip.ReadOnlyDestination, ip.ReadOnlySource, IpProtocol.Udp, request.Length, ReplyHopLimit);
        var echo = UdpDatagram.WriteHeader(answer.Payload, EchoPort, request.SourcePort, request.ReadOnlyPayload.Length);
        request.ReadOnlyPayload.CopyTo(echo.Payload);
        echo.FillChecksum(echo.PseudoHeaderSum(answer.Source, answer.Destination));
        return length;
    }

    private static bool IsUnicastIpv4(uint address) =>
        address != 0 && address != uint.MaxValue && (address >> 28) != 0xE;

    private bool IsOurIpv4(uint address)
    {
        foreach (var prefix in _ipv4)
        {
            if (prefix.IsOtherHost(address))
            {
                return true;
            }
        }

        return false;
    }

    private bool IsOurIpv6(UInt128 address)
    {
        foreach (var prefix in _ipv6)
        {
            if (prefix.IsOtherHost(address))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Where an Ethernet reply goes: back to the sender, on the VLAN it came from.</summary>
    private readonly record struct LinkReply(MacAddress Peer, bool Tagged, ushort VlanId, byte Priority);

    private readonly struct Ipv4Prefix
    {
        private readonly uint _kernel;
        private readonly uint _mask;
        private readonly bool _hasNetworkAndBroadcast;

        public Ipv4Prefix(uint kernel, int prefixLength)
        {
            _kernel = kernel;
            _mask = prefixLength == 0 ? 0 : uint.MaxValue << (32 - prefixLength);
            _hasNetworkAndBroadcast = prefixLength <= 30;
        }

        public bool IsOtherHost(uint address)
        {
            if ((address & _mask) != (_kernel & _mask) || address == _kernel)
            {
                return false;
            }

            var host = address & ~_mask;
            return !_hasNetworkAndBroadcast || (host != 0 && host != ~_mask);
        }
    }

    private readonly struct Ipv6Prefix
    {
        private readonly UInt128 _kernel;
        private readonly UInt128 _mask;

        public Ipv6Prefix(UInt128 kernel, int prefixLength)
        {
            _kernel = kernel;
            _mask = prefixLength == 0 ? UInt128.Zero : UInt128.MaxValue << (128 - prefixLength);
        }

        public bool IsOtherHost(UInt128 address) =>
            (address & _mask) == (_kernel & _mask) && address != _kernel && (address >> 120) != 0xFF;
    }
}
