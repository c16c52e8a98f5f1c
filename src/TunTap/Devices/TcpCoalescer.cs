using System.Buffers.Binary;
using TunTap.Buffers;
using TunTap.Wire;

namespace TunTap.Devices;

/// <summary>
/// Receive-side coalescing (what GRO does in the kernel) for a device with a virtio-net header:
/// consecutive TCP segments of one flow (same addresses, ports, IP and TCP header fields, the
/// next sequence number, equal payload sizes, only ACK/PSH flags) are merged into one super packet
/// whose <see cref="VirtioNetHeader"/> asks the kernel to treat it as segmentation offload
/// (<see cref="VirtioGsoType.TcpV4"/>/<see cref="VirtioGsoType.TcpV6"/>, partial checksum). One
/// write then carries up to 64 KiB instead of one MTU. Everything else passes through unchanged
/// and in order. Allocates nothing after construction.
/// </summary>
public sealed class TcpCoalescer
{
    /// <summary>How many output packets back a segment looks for its flow.</summary>
    internal const int MaxSearch = 8;

    private const byte AllowedFlags = (byte)(TcpFlags.Ack | TcpFlags.Psh);

    private readonly DeviceMode _mode;
    private readonly int[] _segments;
    private readonly int[] _gsoSize;
    private readonly uint[] _nextSequence;
    private readonly bool[] _open;
    private readonly int[] _tcpOffset;
    private readonly bool[] _ipv4;

    /// <summary>Creates a coalescer for batches of up to <paramref name="capacity"/> output packets.</summary>
    public TcpCoalescer(DeviceMode mode, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _mode = mode;
        _segments = new int[capacity];
        _gsoSize = new int[capacity];
        _nextSequence = new uint[capacity];
        _open = new bool[capacity];
        _tcpOffset = new int[capacity];
        _ipv4 = new bool[capacity];
    }

    /// <summary>How many input packets output packet <paramref name="index"/> of the last <see cref="Coalesce"/> holds.</summary>
    public int SegmentsOf(int index) => _segments[index];

    /// <summary>
    /// Moves packets of <paramref name="source"/> from <paramref name="start"/> on (each behind a
    /// virtio-net header) into <paramref name="destination"/> (cleared first; its slots should hold
    /// a super packet, and at least any source packet), merging what can be merged. Stops when <paramref name="destination"/> is
    /// full; returns the index of the first packet not taken (source.Count when all were).
    /// </summary>
    public int Coalesce(PacketBatch source, int start, PacketBatch destination)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(destination.Capacity, _segments.Length);
        destination.Clear();
        var index = start;
        for (; index < source.Count; index++)
        {
            var packet = source[index];
            var parsed = Parse(packet);
            if (parsed.IsTcp && TryMerge(packet[VirtioNetHeader.Size..], parsed, destination))
            {
                continue;
            }

            if (destination.Count == destination.Capacity)
            {
                break;
            }

            Open(packet, parsed, destination);
        }

        Finish(destination);
        return index;
    }

    /// <summary>Whether two TCP packets of one flow have the headers a merge needs equal (all but lengths, IDs, checksums, sequence numbers and flags).</summary>
    internal static bool SameFlowHeaders(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, int networkOffset, int tcp, bool ipv4)
    {
        // Link header, then the IP fields that must be equal, then ports, ack, data offset, window, options.
        if (!a[..networkOffset].SequenceEqual(b[..networkOffset]))
        {
            return false;
        }

        var ipA = a[networkOffset..tcp];
        var ipB = b[networkOffset..tcp];
        if (ipv4)
        {
            if (!ipA[..2].SequenceEqual(ipB[..2]) || !ipA.Slice(6, 4).SequenceEqual(ipB.Slice(6, 4)) || !ipA[12..].SequenceEqual(ipB[12..]))
            {
                return false;
            }
        }
        else if (!ipA[..4].SequenceEqual(ipB[..4]) || !ipA[6..].SequenceEqual(ipB[6..]))
        {
            return false;
        }

        var tcpA = a[tcp..];
        var tcpB = b[tcp..];
        var headerLength = (tcpA[12] >> 4) * 4;
        return tcpA[..4].SequenceEqual(tcpB[..4])
            && tcpA.Slice(8, 5).SequenceEqual(tcpB.Slice(8, 5))
            && tcpA.Slice(14, 2).SequenceEqual(tcpB.Slice(14, 2))
            && tcpA[20..headerLength].SequenceEqual(tcpB[20..headerLength]);
    }

    /// <summary>Whether two TCP packets have the same addresses and ports.</summary>
    internal static bool SameFlow(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, int networkOffset, int tcp, bool ipv4)
    {
        var addresses = ipv4 ? a.Slice(networkOffset + 12, 8) : a.Slice(networkOffset + 8, 32);
        var other = ipv4 ? b.Slice(networkOffset + 12, 8) : b.Slice(networkOffset + 8, 32);
        return addresses.SequenceEqual(other) && a.Slice(tcp, 4).SequenceEqual(b.Slice(tcp, 4));
    }

    /// <summary>Parses a plain TCP packet behind its virtio-net header; <see cref="TcpLayout.IsTcp"/> is false for anything else.</summary>
    private TcpLayout Parse(ReadOnlySpan<byte> packet) => IsPlain(packet) ? ParseBody(_mode, packet[VirtioNetHeader.Size..]) : default;

    /// <summary>Parses a TCP packet (no virtio-net header in front); <see cref="TcpLayout.IsTcp"/> is false for anything else.</summary>
    internal static TcpLayout ParseBody(DeviceMode mode, ReadOnlySpan<byte> body)
    {
        var networkOffset = GsoSegmenter.NetworkOffset(mode, body);
        if (networkOffset < 0 || body.Length < networkOffset + Ipv4Packet.MinimumHeaderLength)
        {
            return default;
        }

        int tcp;
        var ipv4 = false;
        var ip = body[networkOffset..];
        switch (ip[0] >> 4)
        {
            case 4:
                var ihl = (ip[0] & 0x0F) * 4;
                var fragment = BinaryPrimitives.ReadUInt16BigEndian(ip[6..]) & 0x3FFF;
                if (ihl < Ipv4Packet.MinimumHeaderLength || ip[9] != IpProtocol.Tcp || fragment != 0 || BinaryPrimitives.ReadUInt16BigEndian(ip[2..]) != ip.Length)
                {
                    return default;
                }

                ipv4 = true;
                tcp = networkOffset + ihl;
                break;
            case 6:
                if (ip.Length < Ipv6Packet.HeaderLength || ip[6] != IpProtocol.Tcp || BinaryPrimitives.ReadUInt16BigEndian(ip[4..]) != ip.Length - Ipv6Packet.HeaderLength)
                {
                    return default;
                }

                tcp = networkOffset + Ipv6Packet.HeaderLength;
                break;
            default:
                return default;
        }

        if (body.Length < tcp + TcpSegment.MinimumHeaderLength)
        {
            return default;
        }

        var tcpHeaderLength = (body[tcp + 12] >> 4) * 4;
        var payloadStart = tcp + tcpHeaderLength;
        if (tcpHeaderLength < TcpSegment.MinimumHeaderLength || payloadStart > body.Length)
        {
            return default;
        }

        var flags = body[tcp + 13];
        var mergeable = (flags & ~AllowedFlags) == 0 && (flags & (byte)TcpFlags.Ack) != 0 && payloadStart < body.Length;
        return new TcpLayout(true, networkOffset, tcp, payloadStart, ipv4, mergeable);
    }

    private static bool IsPlain(ReadOnlySpan<byte> packet) =>
        packet.Length > VirtioNetHeader.Size
        && packet[VirtioNetHeader.Field.Flags] == 0
        && packet[VirtioNetHeader.Field.GsoType] == (byte)VirtioGsoType.None;

    private bool TryMerge(ReadOnlySpan<byte> body, TcpLayout layout, PacketBatch destination)
    {
        var (_, networkOffset, tcp, payloadStart, ipv4, mergeable) = layout;
        var low = Math.Max(0, destination.Count - MaxSearch);
        for (var j = destination.Count - 1; j >= low; j--)
        {
            if (!_open[j] || _tcpOffset[j] != VirtioNetHeader.Size + tcp || _ipv4[j] != ipv4)
            {
                continue;
            }

            var target = destination[j][VirtioNetHeader.Size..];
            if (!SameFlow(target, body, networkOffset, tcp, ipv4))
            {
                continue;
            }

            // The flow's latest packet: merge, or close it so nothing later jumps ahead of this one.
            var payload = body.Length - payloadStart;
            var sequence = BinaryPrimitives.ReadUInt32BigEndian(body[(tcp + 4)..]);
            var total = destination.GetLength(j) + payload;
            var ipLength = total - VirtioNetHeader.Size - networkOffset - (ipv4 ? 0 : Ipv6Packet.HeaderLength);
            if (!mergeable
                || sequence != _nextSequence[j]
                || payload > _gsoSize[j]
                || total > destination.MaxPacketSize
                || ipLength > ushort.MaxValue
                || !SameFlowHeaders(target, body, networkOffset, tcp, ipv4))
            {
                _open[j] = false;
                return false;
            }

            body[payloadStart..].CopyTo(destination.GetWritable(j)[destination.GetLength(j)..]);
            destination.SetLength(j, total);
            _segments[j]++;
            _nextSequence[j] = sequence + (uint)payload;
            var flags = body[tcp + 13];
            if ((flags & (byte)TcpFlags.Psh) != 0 || payload < _gsoSize[j])
            {
                // PSH and a short segment may only end a super packet.
                destination.GetWritable(j)[VirtioNetHeader.Size + tcp + 13] |= (byte)(flags & (byte)TcpFlags.Psh);
                _open[j] = false;
            }

            return true;
        }

        return false;
    }

    private void Open(ReadOnlySpan<byte> packet, TcpLayout layout, PacketBatch destination)
    {
        var slot = destination.Count;
        packet.CopyTo(destination.GetWritable(slot));
        destination.SetLength(slot, packet.Length);
        destination.Count = slot + 1;
        _segments[slot] = 1;
        _open[slot] = false;
        var body = packet[VirtioNetHeader.Size..];
        if (layout.IsTcp && layout.Mergeable && (body[layout.Tcp + 13] & (byte)TcpFlags.Psh) == 0)
        {
            _open[slot] = true;
            _ipv4[slot] = layout.Ipv4;
            _tcpOffset[slot] = VirtioNetHeader.Size + layout.Tcp;
            _gsoSize[slot] = body.Length - layout.PayloadStart;
            _nextSequence[slot] = BinaryPrimitives.ReadUInt32BigEndian(body[(layout.Tcp + 4)..]) + (uint)(body.Length - layout.PayloadStart);
        }
    }

    /// <summary>Gives every merged packet its lengths, IPv4 header checksum, pseudo-header checksum and virtio-net header.</summary>
    private void Finish(PacketBatch destination)
    {
        for (var j = 0; j < destination.Count; j++)
        {
            if (_segments[j] < 2)
            {
                continue;
            }

            var packet = destination[j];
            WriteMergedHeaders(_mode, packet, packet.Length - VirtioNetHeader.Size, _tcpOffset[j] - VirtioNetHeader.Size, _ipv4[j], _gsoSize[j]);
        }
    }

    /// <summary>
    /// Gives a merged packet its lengths, IPv4 header checksum, pseudo-header checksum and
    /// virtio-net header. <paramref name="packet"/> holds the virtio-net header and at least the
    /// packet's headers; <paramref name="bodyLength"/> is the whole packet's length after the
    /// virtio-net header; <paramref name="tcp"/> the TCP header's offset there.
    /// </summary>
    internal static void WriteMergedHeaders(DeviceMode mode, Span<byte> packet, int bodyLength, int tcp, bool ipv4, int gsoSize)
    {
        var body = packet[VirtioNetHeader.Size..];
        var networkOffset = GsoSegmenter.NetworkOffset(mode, body);
        var ip = body[networkOffset..];
        var ipLength = bodyLength - networkOffset;
        var tcpLength = bodyLength - tcp;
        ulong pseudo;
        if (ipv4)
        {
            BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)ipLength);
            BinaryPrimitives.WriteUInt16BigEndian(ip[10..], 0);
            BinaryPrimitives.WriteUInt16BigEndian(ip[10..], InternetChecksum.Compute(ip[..(tcp - networkOffset)]));
            pseudo = InternetChecksum.PseudoHeaderSum(ip.Slice(12, 4), ip.Slice(16, 4), IpProtocol.Tcp, (uint)tcpLength);
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)(ipLength - Ipv6Packet.HeaderLength));
            pseudo = InternetChecksum.PseudoHeaderSum(ip.Slice(8, 16), ip.Slice(24, 16), IpProtocol.Tcp, (uint)tcpLength);
        }

        // A partial checksum: the field holds the pseudo-header sum, the kernel adds the rest.
        BinaryPrimitives.WriteUInt16BigEndian(body[(tcp + 16)..], InternetChecksum.Fold(pseudo));
        var tcpHeaderLength = (body[tcp + 12] >> 4) * 4;
        new VirtioNetHeader(
            VirtioNetHeaderFlags.NeedsChecksum,
            ipv4 ? VirtioGsoType.TcpV4 : VirtioGsoType.TcpV6,
            (ushort)(tcp + tcpHeaderLength),
            (ushort)gsoSize,
            (ushort)tcp,
            16).Write(packet);
    }

    /// <summary>Where the headers of a plain TCP packet are (offsets within the packet after its virtio-net header).</summary>
    internal readonly record struct TcpLayout(bool IsTcp, int NetworkOffset, int Tcp, int PayloadStart, bool Ipv4, bool Mergeable);
}
