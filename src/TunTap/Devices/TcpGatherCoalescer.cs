using System.Buffers.Binary;
using TunTap.Wire;

namespace TunTap.Devices;

/// <summary>
/// <see cref="TcpCoalescer"/>'s merging, without copying the packets: the packets stay where they
/// were received (in up to <see cref="MaxSources"/> source buffers), and each output packet is
/// described as its headers (a virtio-net header and, for TCP, the first segment's headers, kept
/// here and fixed up as <see cref="TcpCoalescer"/> fixes its copy) followed by pieces of the
/// sources: the whole packet, or each merged segment's payload. A gather write
/// (<see cref="TunQueue.WriteGather"/>) then hands them to the kernel as they are. Packets may
/// come with a partial checksum (the TCP checksum field holds the pseudo-header sum): alone they
/// get <see cref="VirtioNetHeaderFlags.NeedsChecksum"/>, merged they are like any other. The same
/// rules decide what merges; the output equals <see cref="TcpCoalescer"/>'s byte for byte (a
/// super packet also ends at <see cref="MaxSegments"/> segments). Allocates nothing after construction.
/// </summary>
internal sealed class TcpGatherCoalescer
{
    /// <summary>Source buffers a batch may reference.</summary>
    public const int MaxSources = 2;

    /// <summary>The most segments one output packet takes (one gather write's pieces).</summary>
    public const int MaxSegments = 64;

    /// <summary>Room kept per output for its headers: virtio-net, link (VLAN-tagged), IP and TCP headers with options.</summary>
    private const int HeaderSlotSize = 192;

    private readonly DeviceMode _mode;
    private readonly int _maxPacketSize;
    private readonly byte[] _headers;
    private readonly int[] _headerLength;
    private readonly int[] _length;
    private readonly int[] _segments;
    private readonly int[] _gsoSize;
    private readonly uint[] _nextSequence;
    private readonly bool[] _open;
    private readonly int[] _tcp;
    private readonly bool[] _ipv4;
    private readonly int[] _firstPiece;
    private readonly int[] _lastPiece;
    private readonly int[] _pieceSource;
    private readonly int[] _pieceOffset;
    private readonly int[] _pieceLength;
    private readonly int[] _pieceNext;
    private int _pieces;

    /// <summary>Creates a coalescer for up to <paramref name="capacity"/> output packets (and as many input packets) per batch, each output at most <paramref name="maxPacketSize"/> bytes with its virtio-net header.</summary>
    public TcpGatherCoalescer(DeviceMode mode, int capacity, int maxPacketSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _mode = mode;
        _maxPacketSize = maxPacketSize;
        _headers = GC.AllocateArray<byte>(capacity * HeaderSlotSize, pinned: true);
        _headerLength = new int[capacity];
        _length = new int[capacity];
        _segments = new int[capacity];
        _gsoSize = new int[capacity];
        _nextSequence = new uint[capacity];
        _open = new bool[capacity];
        _tcp = new int[capacity];
        _ipv4 = new bool[capacity];
        _firstPiece = new int[capacity];
        _lastPiece = new int[capacity];
        _pieceSource = new int[capacity];
        _pieceOffset = new int[capacity];
        _pieceLength = new int[capacity];
        _pieceNext = new int[capacity];
    }

    /// <summary>Output packets so far.</summary>
    public int Count { get; private set; }

    /// <summary>Output packets (and input packets) a batch can hold.</summary>
    public int Capacity => _headerLength.Length;

    /// <summary>True when the next <see cref="Add"/> may not fit: write out and <see cref="Clear"/> first.</summary>
    public bool IsFull => _pieces == Capacity || Count == Capacity;

    /// <summary>The pinned array all headers live in (for building gather lists).</summary>
    public byte[] HeaderBuffer => _headers;

    /// <summary>Where output <paramref name="index"/>'s headers start in <see cref="HeaderBuffer"/>.</summary>
    public static int HeaderOffsetOf(int index) => index * HeaderSlotSize;

    /// <summary>Output <paramref name="index"/>'s headers (its virtio-net header first).</summary>
    public ReadOnlySpan<byte> HeadersOf(int index) => _headers.AsSpan(HeaderOffsetOf(index), _headerLength[index]);

    /// <summary>Output <paramref name="index"/>'s length, virtio-net header included.</summary>
    public int LengthOf(int index) => _length[index];

    /// <summary>How many input packets output <paramref name="index"/> holds.</summary>
    public int SegmentsOf(int index) => _segments[index];

    /// <summary>Output <paramref name="index"/>'s first piece, -1 when it has none.</summary>
    public int FirstPieceOf(int index) => _firstPiece[index];

    /// <summary>The piece after <paramref name="piece"/> in its output, -1 at the end.</summary>
    public int NextPiece(int piece) => _pieceNext[piece];

    /// <summary>Where a piece is: source index, offset and length.</summary>
    public (int Source, int Offset, int Length) PieceAt(int piece) => (_pieceSource[piece], _pieceOffset[piece], _pieceLength[piece]);

    /// <summary>Starts a new batch (the sources may be reused).</summary>
    public void Clear()
    {
        Count = 0;
        _pieces = 0;
    }

    /// <summary>
    /// Takes the packet at <paramref name="offset"/> of source <paramref name="source"/>
    /// (<paramref name="packet"/> is that span, which must stay unchanged until the batch is written).
    /// False (nothing taken) when it says <paramref name="partialChecksum"/> but is not a TCP packet.
    /// Call only when not <see cref="IsFull"/>.
    /// </summary>
    public bool Add(int source, ReadOnlySpan<byte> packet, int offset, bool partialChecksum)
    {
        var layout = TcpCoalescer.ParseBody(_mode, packet);
        int tcp;
        if (layout.IsTcp)
        {
            tcp = layout.Tcp;
            if (TryMerge(source, packet, offset, layout))
            {
                return true;
            }
        }
        else if (!partialChecksum || !TryFindTcp(packet, out tcp))
        {
            if (partialChecksum)
            {
                return false;
            }

            OpenWhole(source, packet, offset, default);
            return true;
        }

        if (!layout.IsTcp || !layout.Mergeable || (packet[tcp + 13] & (byte)TcpFlags.Psh) != 0 || VirtioNetHeader.Size + layout.PayloadStart > HeaderSlotSize)
        {
            OpenWhole(source, packet, offset, partialChecksum ? new VirtioNetHeader(VirtioNetHeaderFlags.NeedsChecksum, VirtioGsoType.None, 0, 0, (ushort)tcp, 16) : default);
            return true;
        }

        // Mergeable: keep its headers here, its payload is the first piece.
        var slot = Count++;
        var headers = _headers.AsSpan(HeaderOffsetOf(slot), HeaderSlotSize);
        (partialChecksum ? new VirtioNetHeader(VirtioNetHeaderFlags.NeedsChecksum, VirtioGsoType.None, 0, 0, (ushort)tcp, 16) : default).Write(headers);
        packet[..layout.PayloadStart].CopyTo(headers[VirtioNetHeader.Size..]);
        _headerLength[slot] = VirtioNetHeader.Size + layout.PayloadStart;
        _length[slot] = VirtioNetHeader.Size + packet.Length;
        _segments[slot] = 1;
        var payload = packet.Length - layout.PayloadStart;
        _firstPiece[slot] = -1;
        AddPiece(slot, source, offset + layout.PayloadStart, payload);
        _open[slot] = true;
        _ipv4[slot] = layout.Ipv4;
        _tcp[slot] = tcp;
        _gsoSize[slot] = payload;
        _nextSequence[slot] = BinaryPrimitives.ReadUInt32BigEndian(packet[(tcp + 4)..]) + (uint)payload;
        return true;
    }

    /// <summary>Gives every merged packet its lengths, IPv4 header checksum, pseudo-header checksum and virtio-net header (as <see cref="TcpCoalescer"/> does).</summary>
    public void Finish()
    {
        for (var j = 0; j < Count; j++)
        {
            if (_segments[j] < 2)
            {
                continue;
            }

            TcpCoalescer.WriteMergedHeaders(_mode, _headers.AsSpan(HeaderOffsetOf(j), _headerLength[j]), _length[j] - VirtioNetHeader.Size, _tcp[j], _ipv4[j], _gsoSize[j]);
        }
    }

    /// <summary>Writes output <paramref name="index"/> contiguously (headers, then pieces) into <paramref name="destination"/>; returns its length.</summary>
    public int CopyTo(int index, ReadOnlySpan<byte[]> sources, Span<byte> destination)
    {
        HeadersOf(index).CopyTo(destination);
        var at = _headerLength[index];
        for (var piece = _firstPiece[index]; piece >= 0; piece = _pieceNext[piece])
        {
            sources[_pieceSource[piece]].AsSpan(_pieceOffset[piece], _pieceLength[piece]).CopyTo(destination[at..]);
            at += _pieceLength[piece];
        }

        return at;
    }

    private bool TryFindTcp(ReadOnlySpan<byte> packet, out int tcp)
    {
        tcp = 0;
        var networkOffset = GsoSegmenter.NetworkOffset(_mode, packet);
        if (networkOffset < 0 || packet.Length < networkOffset + Ipv4Packet.MinimumHeaderLength)
        {
            return false;
        }

        var ip = packet[networkOffset..];
        var version = ip[0] >> 4;
        if (version == 4 && (ip[0] & 0x0F) * 4 >= Ipv4Packet.MinimumHeaderLength && ip[9] == IpProtocol.Tcp && (BinaryPrimitives.ReadUInt16BigEndian(ip[6..]) & 0x3FFF) == 0)
        {
            tcp = networkOffset + ((ip[0] & 0x0F) * 4);
        }
        else if (version == 6 && ip.Length >= Ipv6Packet.HeaderLength && ip[6] == IpProtocol.Tcp)
        {
            tcp = networkOffset + Ipv6Packet.HeaderLength;
        }
        else
        {
            return false;
        }

        return packet.Length >= tcp + TcpSegment.MinimumHeaderLength;
    }

    /// <summary>An output that is the packet as it is, behind <paramref name="header"/>.</summary>
    private void OpenWhole(int source, ReadOnlySpan<byte> packet, int offset, VirtioNetHeader header)
    {
        var slot = Count++;
        header.Write(_headers.AsSpan(HeaderOffsetOf(slot), VirtioNetHeader.Size));
        _headerLength[slot] = VirtioNetHeader.Size;
        _length[slot] = VirtioNetHeader.Size + packet.Length;
        _segments[slot] = 1;
        _open[slot] = false;
        _firstPiece[slot] = -1;
        AddPiece(slot, source, offset, packet.Length);
    }

    private void AddPiece(int slot, int source, int offset, int length)
    {
        var piece = _pieces++;
        _pieceSource[piece] = source;
        _pieceOffset[piece] = offset;
        _pieceLength[piece] = length;
        _pieceNext[piece] = -1;
        if (_firstPiece[slot] < 0)
        {
            _firstPiece[slot] = piece;
        }
        else
        {
            _pieceNext[_lastPiece[slot]] = piece;
        }

        _lastPiece[slot] = piece;
    }

    private bool TryMerge(int source, ReadOnlySpan<byte> body, int offset, TcpCoalescer.TcpLayout layout)
    {
        var (_, networkOffset, tcp, payloadStart, ipv4, mergeable) = layout;
        var low = Math.Max(0, Count - TcpCoalescer.MaxSearch);
        for (var j = Count - 1; j >= low; j--)
        {
            if (!_open[j] || _tcp[j] != tcp || _ipv4[j] != ipv4)
            {
                continue;
            }

            var target = _headers.AsSpan(HeaderOffsetOf(j) + VirtioNetHeader.Size, _headerLength[j] - VirtioNetHeader.Size);
            if (!TcpCoalescer.SameFlow(target, body, networkOffset, tcp, ipv4))
            {
                continue;
            }

            var payload = body.Length - payloadStart;
            var sequence = BinaryPrimitives.ReadUInt32BigEndian(body[(tcp + 4)..]);
            var total = _length[j] + payload;
            var ipLength = total - VirtioNetHeader.Size - networkOffset - (ipv4 ? 0 : Ipv6Packet.HeaderLength);
            if (!mergeable
                || sequence != _nextSequence[j]
                || payload > _gsoSize[j]
                || total > _maxPacketSize
                || ipLength > ushort.MaxValue
                || _headerLength[j] != VirtioNetHeader.Size + payloadStart
                || !TcpCoalescer.SameFlowHeaders(target, body, networkOffset, tcp, ipv4))
            {
                _open[j] = false;
                return false;
            }

            AddPiece(j, source, offset + payloadStart, payload);
            _length[j] = total;
            _segments[j]++;
            _nextSequence[j] = sequence + (uint)payload;
            var flags = body[tcp + 13];
            if ((flags & (byte)TcpFlags.Psh) != 0 || payload < _gsoSize[j] || _segments[j] == MaxSegments)
            {
                // PSH and a short segment may only end a super packet.
                _headers[HeaderOffsetOf(j) + VirtioNetHeader.Size + tcp + 13] |= (byte)(flags & (byte)TcpFlags.Psh);
                _open[j] = false;
            }

            return true;
        }

        return false;
    }
}
