using System.Buffers.Binary;
using TunTap.Wire;

namespace TunTap.Devices;

/// <summary>
/// What the kernel would do for a device without offloads, done in user space for packets read
/// from a device with a <see cref="VirtioNetHeader"/>: finishes a partial checksum
/// (<see cref="VirtioNetHeaderFlags.NeedsChecksum"/>), and cuts a TCP super packet
/// (<see cref="VirtioGsoType.TcpV4"/>/<see cref="VirtioGsoType.TcpV6"/>) into MTU-sized segments
/// with correct IP lengths, IPv4 identifications, sequence numbers, flags (FIN and PSH only on
/// the last segment, CWR only on the first) and checksums. Works on caller spans; allocates nothing.
/// </summary>
public static class GsoSegmenter
{

    /// <summary>
    /// Where the IP header starts in a packet of a device in <paramref name="mode"/>: 0 for TUN;
    /// 14 for TAP, 18 after one VLAN tag. -1 when a TAP frame is too short for its Ethernet header.
    /// </summary>
    public static int NetworkOffset(DeviceMode mode, ReadOnlySpan<byte> packet)
    {
        if (mode == DeviceMode.Tun)
        {
            return 0;
        }

        if (packet.Length < EthernetFrame.UntaggedHeaderLength)
        {
            return -1;
        }

        var etherType = BinaryPrimitives.ReadUInt16BigEndian(packet[12..]);
        return etherType is EtherType.Vlan or EtherType.ServiceVlan ? EthernetFrame.TaggedHeaderLength : EthernetFrame.UntaggedHeaderLength;
    }

    /// <summary>
    /// Fills in the checksum of a packet whose header says <see cref="VirtioNetHeaderFlags.NeedsChecksum"/>:
    /// the sum from ChecksumStart to the end (the checksum field holds the pseudo-header sum),
    /// stored at ChecksumStart + ChecksumOffset. True when done or not needed; false when the
    /// offsets point outside the packet.
    /// </summary>
    public static bool TryCompleteChecksum(Span<byte> packet, in VirtioNetHeader header)
    {
        if ((header.Flags & VirtioNetHeaderFlags.NeedsChecksum) == 0)
        {
            return true;
        }

        var start = (int)header.ChecksumStart;
        var field = start + header.ChecksumOffset;
        if (field + 2 > packet.Length)
        {
            return false;
        }

        var checksum = InternetChecksum.Finish(InternetChecksum.Add(0, packet[start..]));
        // 0 and 0xFFFF are the same in ones' complement; UDP reserves 0 for "no checksum".
        BinaryPrimitives.WriteUInt16BigEndian(packet[field..], checksum == 0 ? (ushort)0xFFFF : checksum);
        return true;
    }

    /// <summary>
    /// The bytes <see cref="TrySegment"/> needs for this super packet with <paramref name="gap"/>
    /// bytes before each segment, or -1 when it is not a TCP super packet this class can cut.
    /// </summary>
    public static int SegmentedLength(ReadOnlySpan<byte> packet, in VirtioNetHeader header, int networkOffset, int gap) =>
        TryLayout(packet, header, networkOffset, gap, out var segments, out _) ? segments.TotalLength : -1;

    /// <summary>
    /// Cuts a TCP super packet into segments of at most <see cref="VirtioNetHeader.GsoSize"/>
    /// payload bytes, written one after another into <paramref name="destination"/> with
    /// <paramref name="gap"/> free bytes before each (see <see cref="GsoSegments"/>). Every segment
    /// is a complete packet: link header (TAP) copied, IP length (and IPv4 identification + i and
    /// header checksum), TCP sequence number, flags and checksum set.
    /// </summary>
    /// <param name="packet">The super packet, without its virtio-net header.</param>
    /// <param name="header">Its virtio-net header (GsoType TcpV4 or TcpV6, GsoSize, ChecksumStart at the TCP header).</param>
    /// <param name="networkOffset">Where its IP header starts (<see cref="NetworkOffset"/>).</param>
    /// <param name="destination">Where the segments go; must not overlap <paramref name="packet"/>.</param>
    /// <param name="gap">Free bytes left in front of every segment.</param>
    /// <param name="segments">The layout written.</param>
    /// <returns>False (nothing written) when the packet is not a valid TCP super packet or the segments do not fit.</returns>
    public static bool TrySegment(ReadOnlySpan<byte> packet, in VirtioNetHeader header, int networkOffset, Span<byte> destination, int gap, out GsoSegments segments)
    {
        if (!TryLayout(packet, header, networkOffset, gap, out segments, out var ipv4) || segments.TotalLength > destination.Length)
        {
            segments = default;
            return false;
        }

        var context = SegmentContext.Of(packet, header, networkOffset, ipv4, segments.Count);
        for (var i = 0; i < segments.Count; i++)
        {
            var length = segments.LengthOf(i);
            var segment = destination.Slice(segments.OffsetOf(i), length);
            packet[..context.HeaderLength].CopyTo(segment);
            var payload = segment[context.HeaderLength..];
            packet.Slice(context.HeaderLength + (i * context.Mss), payload.Length).CopyTo(payload);
            context.FixHeaders(segment[..context.HeaderLength], i, payload, partialChecksum: false);
        }

        return true;
    }

    /// <summary>
    /// The zero-copy form of <see cref="TrySegment"/>: writes only the headers of each segment
    /// (link, IP and TCP headers with that segment's fields) into <paramref name="destination"/>,
    /// each after <paramref name="gap"/> free bytes, <see cref="GsoSegmentHeaders.Stride"/> apart.
    /// Segment i is its headers followed by <see cref="GsoSegmentHeaders.PayloadOf"/>(i) of
    /// <paramref name="packet"/>, so a gather send can put them on the wire without copying the
    /// payload. With <paramref name="partialChecksum"/> the TCP checksum field holds only the
    /// pseudo-header sum (what the kernel leaves for <see cref="VirtioNetHeaderFlags.NeedsChecksum"/>;
    /// <see cref="TryCompleteChecksum"/> completes it) and the payload is not read at all;
    /// otherwise the segments are byte for byte those of <see cref="TrySegment"/>.
    /// </summary>
    /// <returns>False (nothing written) when the packet is not a valid TCP super packet or the headers do not fit.</returns>
    public static bool TryWriteSegmentHeaders(ReadOnlySpan<byte> packet, in VirtioNetHeader header, int networkOffset, Span<byte> destination, int gap, bool partialChecksum, out GsoSegmentHeaders layout)
    {
        layout = default;
        if (!TryLayout(packet, header, networkOffset, gap, out var segments, out var ipv4))
        {
            return false;
        }

        var context = SegmentContext.Of(packet, header, networkOffset, ipv4, segments.Count);
        var candidate = new GsoSegmentHeaders(segments.Count, gap, context.HeaderLength, context.Mss, packet.Length - context.HeaderLength);
        if ((long)candidate.Count * candidate.Stride > destination.Length)
        {
            return false;
        }

        for (var i = 0; i < segments.Count; i++)
        {
            var headers = destination.Slice(candidate.HeadersOffsetOf(i), context.HeaderLength);
            packet[..context.HeaderLength].CopyTo(headers);
            var (offset, length) = candidate.PayloadOf(i);
            context.FixHeaders(headers, i, packet.Slice(offset, length), partialChecksum);
        }

        layout = candidate;
        return true;
    }

    private static int TcpHeaderLength(ReadOnlySpan<byte> packet, int tcp) => (packet[tcp + 12] >> 4) * 4;

    private static bool TryLayout(ReadOnlySpan<byte> packet, in VirtioNetHeader header, int networkOffset, int gap, out GsoSegments segments, out bool ipv4)
    {
        segments = default;
        var type = header.GsoType & ~VirtioGsoType.Ecn;
        ipv4 = type == VirtioGsoType.TcpV4;
        if ((!ipv4 && type != VirtioGsoType.TcpV6) || header.GsoSize == 0 || networkOffset < 0 || gap < 0)
        {
            return false;
        }

        int tcp = header.ChecksumStart;
        if (tcp + TcpSegment.MinimumHeaderLength > packet.Length || networkOffset >= packet.Length)
        {
            return false;
        }

        var ip = packet[networkOffset..];
        if (ipv4)
        {
            if (tcp - networkOffset < Ipv4Packet.MinimumHeaderLength || ip[0] >> 4 != 4 || (ip[0] & 0x0F) * 4 != tcp - networkOffset || ip[9] != IpProtocol.Tcp)
            {
                return false;
            }
        }
        else if (tcp - networkOffset < Ipv6Packet.HeaderLength || ip[0] >> 4 != 6)
        {
            return false;
        }

        var tcpHeaderLength = TcpHeaderLength(packet, tcp);
        var headerLength = tcp + tcpHeaderLength;
        if (tcpHeaderLength < TcpSegment.MinimumHeaderLength || headerLength > packet.Length)
        {
            return false;
        }

        var payload = packet.Length - headerLength;
        var mss = (int)header.GsoSize;
        var count = payload == 0 ? 1 : (payload + mss - 1) / mss;
        var segmentLength = headerLength + Math.Min(mss, payload);
        if (headerLength - networkOffset + Math.Min(mss, payload) > ushort.MaxValue)
        {
            return false;
        }

        segments = new GsoSegments(count, gap, segmentLength, headerLength + payload - ((count - 1) * mss));
        return true;
    }

    /// <summary>What every segment of one super packet shares; <see cref="FixHeaders"/> sets one segment's own fields.</summary>
    private readonly struct SegmentContext
    {
        private readonly ulong _pseudo;

        private SegmentContext(int networkOffset, int tcp, int headerLength, int mss, bool ipv4, int count, ulong pseudo, ushort identification, uint sequence, byte flags)
        {
            NetworkOffset = networkOffset;
            Tcp = tcp;
            HeaderLength = headerLength;
            Mss = mss;
            Ipv4 = ipv4;
            Count = count;
            _pseudo = pseudo;
            Identification = identification;
            Sequence = sequence;
            Flags = flags;
        }

        public int NetworkOffset { get; }

        public int Tcp { get; }

        public int HeaderLength { get; }

        public int Mss { get; }

        public bool Ipv4 { get; }

        public int Count { get; }

        public ushort Identification { get; }

        public uint Sequence { get; }

        public byte Flags { get; }

        public static SegmentContext Of(ReadOnlySpan<byte> packet, in VirtioNetHeader header, int networkOffset, bool ipv4, int count)
        {
            int tcp = header.ChecksumStart;
            // Without the length: each segment adds its own.
            var (addresses, addressLength) = ipv4 ? (networkOffset + 12, 4) : (networkOffset + 8, 16);
            var pseudo = InternetChecksum.PseudoHeaderSum(packet.Slice(addresses, addressLength), packet.Slice(addresses + addressLength, addressLength), IpProtocol.Tcp, 0);
            return new SegmentContext(
                networkOffset,
                tcp,
                tcp + TcpHeaderLength(packet, tcp),
                header.GsoSize,
                ipv4,
                count,
                pseudo,
                ipv4 ? BinaryPrimitives.ReadUInt16BigEndian(packet[(networkOffset + 4)..]) : (ushort)0,
                BinaryPrimitives.ReadUInt32BigEndian(packet[(tcp + 4)..]),
                packet[tcp + 13]);
        }

        /// <summary>Sets segment <paramref name="index"/>'s lengths, IPv4 identification and header checksum, sequence number, flags and TCP checksum in its copied <paramref name="headers"/>.</summary>
        public void FixHeaders(Span<byte> headers, int index, ReadOnlySpan<byte> payload, bool partialChecksum)
        {
            var length = HeaderLength + payload.Length;
            var ip = headers[NetworkOffset..];
            if (Ipv4)
            {
                BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(length - NetworkOffset));
                BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)(Identification + index));
                BinaryPrimitives.WriteUInt16BigEndian(ip[10..], 0);
                BinaryPrimitives.WriteUInt16BigEndian(ip[10..], InternetChecksum.Compute(ip[..(Tcp - NetworkOffset)]));
            }
            else
            {
                BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)(length - NetworkOffset - Ipv6Packet.HeaderLength));
            }

            var tcpHeader = headers[Tcp..];
            BinaryPrimitives.WriteUInt32BigEndian(tcpHeader[4..], Sequence + (uint)(index * Mss));
            var segmentFlags = Flags;
            if (index != Count - 1)
            {
                segmentFlags &= unchecked((byte)~(TcpFlags.Fin | TcpFlags.Psh));
            }

            if (index != 0)
            {
                segmentFlags &= unchecked((byte)~TcpFlags.Cwr);
            }

            tcpHeader[13] = segmentFlags;
            var sum = InternetChecksum.Add(_pseudo, (uint)(length - Tcp));
            if (partialChecksum)
            {
                // As the kernel leaves CHECKSUM_PARTIAL: the pseudo-header sum, folded, not inverted.
                BinaryPrimitives.WriteUInt16BigEndian(tcpHeader[16..], InternetChecksum.Fold(sum));
                return;
            }

            // The TCP header is a multiple of 4 bytes long, so the payload's sum continues it.
            BinaryPrimitives.WriteUInt16BigEndian(tcpHeader[16..], 0);
            sum = InternetChecksum.Add(sum, tcpHeader[..(HeaderLength - Tcp)]);
            BinaryPrimitives.WriteUInt16BigEndian(tcpHeader[16..], InternetChecksum.Finish(InternetChecksum.Add(sum, payload)));
        }
    }
}
