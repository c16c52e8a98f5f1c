using TunTap.Wire;

namespace TunTap.Tests.Wire;

/// <summary>Creates every view over some bytes and reads every accessor, so robustness tests can feed it anything.</summary>
internal static class WireProbe
{
    public static long ReadEverything(byte[] bytes)
    {
        long acc = 0;
        if (EthernetFrame.TryCreate(bytes.AsSpan(), out var eth))
        {
            acc += (long)eth.Destination.Value + (long)eth.Source.Value + eth.EtherType + eth.VlanId + eth.Priority + eth.HeaderLength + eth.Payload.Length;
            acc += eth.HasVlanTag ? 1 : 0;
        }

        if (ArpPacket.TryCreate(bytes.AsSpan(), out var arp))
        {
            acc += (long)arp.Operation + (long)arp.SenderHardwareAddress.Value + arp.SenderProtocolAddress + (long)arp.TargetHardwareAddress.Value + arp.TargetProtocolAddress;
        }

        if (Ipv4Packet.TryCreate(bytes.AsSpan(), out var v4))
        {
            acc += v4.Version + v4.HeaderLength + v4.Options.Length + v4.Dscp + v4.Ecn + v4.TotalLength + v4.Identification;
            acc += (v4.DontFragment ? 1 : 0) + (v4.MoreFragments ? 1 : 0) + (v4.IsFragment ? 1 : 0) + v4.FragmentOffset + v4.TimeToLive + v4.Protocol;
            acc += v4.HeaderChecksum + v4.Source + v4.Destination + v4.Payload.Length + v4.ComputeHeaderChecksum() + (v4.VerifyHeaderChecksum() ? 1 : 0);
            acc += (long)v4.PseudoHeaderSum();
            acc += ReadTransport(v4.Payload, v4.PseudoHeaderSum(), isIpv6: false);
        }

        if (Ipv6Packet.TryCreate(bytes.AsSpan(), out var v6))
        {
            acc += v6.Version + v6.TrafficClass + v6.FlowLabel + v6.PayloadLength + v6.NextHeader + v6.HopLimit + v6.Source[15] + v6.Destination[15] + v6.Payload.Length;
            if (v6.TryGetUpperLayer(out var protocol, out var offset))
            {
                acc += protocol + offset;
                var upper = v6.Buffer[offset..];
                acc += ReadTransport(upper, v6.PseudoHeaderSum(protocol, upper.Length), isIpv6: true);
            }
        }

        acc += ReadTransport(bytes, 0, isIpv6: false) + ReadTransport(bytes, 0, isIpv6: true);
        return acc;
    }

    private static long ReadTransport(Span<byte> bytes, ulong pseudo, bool isIpv6)
    {
        long acc = 0;
        if (IcmpV4Packet.TryCreate(bytes, out var icmp))
        {
            acc += icmp.Type + icmp.Code + icmp.Checksum + icmp.Identifier + icmp.SequenceNumber + icmp.Data.Length + icmp.ComputeChecksum() + (icmp.VerifyChecksum() ? 1 : 0);
        }

        if (isIpv6 && IcmpV6Packet.TryCreate(bytes, out var icmp6))
        {
            acc += icmp6.Type + icmp6.Code + icmp6.Checksum + icmp6.Identifier + icmp6.SequenceNumber + icmp6.Data.Length;
            acc += (icmp6.RouterFlag ? 1 : 0) + (icmp6.SolicitedFlag ? 1 : 0) + (icmp6.OverrideFlag ? 1 : 0) + (icmp6.HasTargetAddress ? 1 : 0);
            acc += icmp6.TargetAddress.Length + icmp6.NdpOptions.Length + (icmp6.NdpOptionsAreValid() ? 1 : 0);
            acc += icmp6.TryGetLinkLayerAddress(NdpOptionType.SourceLinkLayerAddress, out var sll) ? (long)sll.Value : 0;
            acc += icmp6.TryGetLinkLayerAddress(NdpOptionType.TargetLinkLayerAddress, out var tll) ? (long)tll.Value : 0;
            acc += icmp6.ComputeChecksum(pseudo) + (icmp6.VerifyChecksum(pseudo) ? 1 : 0);
        }

        if (UdpDatagram.TryCreate(bytes, out var udp))
        {
            acc += udp.SourcePort + udp.DestinationPort + udp.Length + udp.Checksum + udp.Payload.Length + udp.ComputeChecksum(pseudo) + (udp.VerifyChecksum(pseudo) ? 1 : 0);
            acc += (long)udp.PseudoHeaderSum(1, 2);
        }

        if (TcpSegment.TryCreate(bytes, out var tcp))
        {
            acc += tcp.SourcePort + tcp.DestinationPort + tcp.SequenceNumber + tcp.AcknowledgmentNumber + tcp.HeaderLength + (int)tcp.Flags + tcp.Window;
            acc += tcp.Checksum + tcp.UrgentPointer + tcp.Options.Length + tcp.Payload.Length + tcp.ComputeChecksum(pseudo) + (tcp.VerifyChecksum(pseudo) ? 1 : 0);
            foreach (var option in tcp.GetOptions())
            {
                acc += option.Kind + option.Data.Length;
            }

            acc += tcp.TryGetMaximumSegmentSize(out var mss) ? mss : 0;
            acc += tcp.TryGetWindowScale(out var ws) ? ws : 0;
            acc += tcp.HasSackPermitted() ? 1 : 0;
            acc += tcp.TryGetTimestamps(out var tsval, out var tsecr) ? tsval + tsecr : 0;
        }

        return acc;
    }
}
