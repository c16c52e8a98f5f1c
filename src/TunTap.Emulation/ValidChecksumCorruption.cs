using System.Buffers.Binary;
using TunTap.Wire;

namespace TunTap.Emulation;

/// <summary>
/// Corruption that reaches the application: the bit flips only in the payload of an unfragmented
/// IPv4 or IPv6 packet carrying TCP, UDP, ICMP or ICMPv6 (right after the IP header), and the IPv4
/// header and transport checksums are then computed anew, so the receiving kernel accepts the packet
/// and hands the damaged bytes on. Other packets (fragments, IPv6 extension headers, other protocols,
/// no payload) are spared. A UDP-over-IPv4 datagram sent without a checksum keeps none.
/// </summary>
public sealed class ValidChecksumCorruption : ICorruptionFixup
{
    private const int IcmpHeaderLength = 8;
    private const int IcmpChecksumOffset = 2;

    /// <inheritdoc />
    public Range SelectRegion(ReadOnlySpan<byte> packet)
    {
        if (!TryLocate(packet, out var transportOffset, out var protocol, out var end))
        {
            return default;
        }

        var transport = packet[transportOffset..end];
        var headerLength = protocol switch
        {
            IpProtocol.Tcp => Math.Max(TcpSegment.MinimumHeaderLength, (transport[TcpSegment.Field.DataOffset] >> 4) * 4),
            IpProtocol.Udp => UdpDatagram.HeaderLength,
            _ => IcmpHeaderLength,
        };
        return headerLength >= transport.Length ? default : new Range(transportOffset + headerLength, end);
    }

    /// <inheritdoc />
    public void AfterCorruption(Span<byte> packet)
    {
        if (!TryLocate(packet, out var transportOffset, out var protocol, out var end))
        {
            return;
        }

        ulong pseudoHeader;
        var isIpv4 = Ipv4Packet.TryCreate(packet, out var ipv4);
        if (isIpv4)
        {
            ipv4.FillHeaderChecksum();
            pseudoHeader = ipv4.PseudoHeaderSum();
        }
        else if (Ipv6Packet.TryCreate(packet, out var ipv6))
        {
            pseudoHeader = ipv6.PseudoHeaderSum(protocol, end - transportOffset);
        }
        else
        {
            return;
        }

        var transport = packet[transportOffset..end];
        switch (protocol)
        {
            case IpProtocol.Tcp:
                FillChecksum(transport, TcpSegment.Field.Checksum, pseudoHeader);
                break;
            case IpProtocol.Udp:
                if (!isIpv4 || BinaryPrimitives.ReadUInt16BigEndian(transport[UdpDatagram.Field.Checksum..]) != 0)
                {
                    FillChecksum(transport, UdpDatagram.Field.Checksum, pseudoHeader, zeroMeansNone: true);
                }

                break;
            case IpProtocol.Icmp:
                FillChecksum(transport, IcmpChecksumOffset, 0);
                break;
            case IpProtocol.IcmpV6:
                FillChecksum(transport, IcmpChecksumOffset, pseudoHeader);
                break;
        }
    }

    /// <summary>Finds the transport header of an unfragmented IPv4/IPv6 packet carrying TCP, UDP, ICMP or ICMPv6.</summary>
    private static bool TryLocate(ReadOnlySpan<byte> packet, out int transportOffset, out byte protocol, out int end)
    {
        transportOffset = 0;
        protocol = 0;
        end = 0;
        if (Ipv4Packet.TryCreate(packet, out var ipv4))
        {
            if (ipv4.IsFragment || ipv4.Protocol is not (IpProtocol.Tcp or IpProtocol.Udp or IpProtocol.Icmp))
            {
                return false;
            }

            transportOffset = ipv4.HeaderLength;
            protocol = ipv4.Protocol;
            end = ipv4.TotalLength;
        }
        else if (Ipv6Packet.TryCreate(packet, out var ipv6))
        {
            if (ipv6.NextHeader is not (IpProtocol.Tcp or IpProtocol.Udp or IpProtocol.IcmpV6))
            {
                return false;
            }

            transportOffset = Ipv6Packet.HeaderLength;
            protocol = ipv6.NextHeader;
            end = Ipv6Packet.HeaderLength + ipv6.PayloadLength;
        }
        else
        {
            return false;
        }

        var minimum = protocol == IpProtocol.Tcp ? TcpSegment.MinimumHeaderLength : UdpDatagram.HeaderLength;
        return end - transportOffset >= minimum;
    }

    private static void FillChecksum(Span<byte> transport, int checksumOffset, ulong pseudoHeader, bool zeroMeansNone = false)
    {
        BinaryPrimitives.WriteUInt16BigEndian(transport[checksumOffset..], 0);
        var checksum = InternetChecksum.Finish(InternetChecksum.Add(pseudoHeader, transport));

        // In UDP a computed 0 is sent as 0xFFFF: 0 means "no checksum" (RFC 768).
        if (zeroMeansNone && checksum == 0)
        {
            checksum = 0xFFFF;
        }

        BinaryPrimitives.WriteUInt16BigEndian(transport[checksumOffset..], checksum);
    }
}
