using System.Buffers.Binary;
using TunTap.Devices;
using TunTap.Wire;

namespace TunTap.Tunnel;

/// <summary>
/// TCP segments sent with <see cref="TunnelFrameFlags.PartialChecksum"/>: only plain layouts
/// (IPv4, or IPv6 without extension headers) are sent that way, so the receiver finds the TCP
/// header without walking extension headers, and tells its device where the checksum goes.
/// </summary>
internal static class PartialChecksum
{
    /// <summary>Offset of the TCP checksum field in its header.</summary>
    public const int TcpChecksumOffset = 16;

    /// <summary>True when a segment with this layout may be sent with a partial checksum.</summary>
    public static bool CanSend(ReadOnlySpan<byte> packet, int networkOffset, int tcp) =>
        networkOffset >= 0 && networkOffset < packet.Length && (packet[networkOffset] >> 4 == 4 || tcp == networkOffset + Ipv6Packet.HeaderLength);

    /// <summary>Where the TCP header of a plain-layout TCP packet starts; false when it is not one.</summary>
    public static bool TryFindTcp(DeviceMode mode, ReadOnlySpan<byte> packet, out int tcp)
    {
        tcp = 0;
        var networkOffset = GsoSegmenter.NetworkOffset(mode, packet);
        if (networkOffset < 0 || packet.Length < networkOffset + Ipv4Packet.MinimumHeaderLength)
        {
            return false;
        }

        var ip = packet[networkOffset..];
        switch (ip[0] >> 4)
        {
            case 4:
                var ihl = (ip[0] & 0x0F) * 4;
                var fragment = BinaryPrimitives.ReadUInt16BigEndian(ip[6..]) & 0x3FFF;
                if (ihl < Ipv4Packet.MinimumHeaderLength || ip[9] != IpProtocol.Tcp || fragment != 0)
                {
                    return false;
                }

                tcp = networkOffset + ihl;
                break;
            case 6:
                if (ip.Length < Ipv6Packet.HeaderLength || ip[6] != IpProtocol.Tcp)
                {
                    return false;
                }

                tcp = networkOffset + Ipv6Packet.HeaderLength;
                break;
            default:
                return false;
        }

        return packet.Length >= tcp + TcpSegment.MinimumHeaderLength;
    }

    /// <summary>The virtio-net header asking the kernel to complete the checksum of a TCP packet whose header starts at <paramref name="tcp"/>.</summary>
    public static VirtioNetHeader HeaderFor(int tcp) =>
        new(VirtioNetHeaderFlags.NeedsChecksum, VirtioGsoType.None, 0, 0, (ushort)tcp, TcpChecksumOffset);
}
