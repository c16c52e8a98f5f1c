using System.Net;
using System.Net.Sockets;
using TunTap.Buffers;
using TunTap.Devices;
using TunTap.Interop;

namespace TunTap.Tunnel;

/// <summary>
/// The peer over UDP: one datagram per packet. A client link owns its connected socket; a server
/// link shares the listening socket and sends to the peer's address. Super packets from a
/// virtio-net-header device are cut into MTU-sized segments, each with its frame header, laid
/// out back to back and sent with UDP segmentation offload (<c>UDP_SEGMENT</c>): one send for
/// up to 64 datagrams.
/// </summary>
internal sealed class UdpPeerLink : PeerLink
{
    /// <summary>UDP_SEGMENT: the datagram size one send is cut into.</summary>
    private const int UdpSegment = 103;

    /// <summary>The kernel takes at most 64 segments per UDP GSO send (UDP_MAX_SEGMENTS on older kernels).</summary>
    private const int MaxGsoSegments = 64;

    /// <summary>A UDP GSO send must fit one UDP datagram's length field, IP header included.</summary>
    private const int MaxGsoBytes = 65_000;

    /// <summary>Bytes of the UDP_SEGMENT ancillary item (CMSG_SPACE(sizeof(u16))).</summary>
    private static readonly int SegmentControlSpace = ControlMessageHeader.Space(sizeof(ushort));

    private readonly Socket _socket;
    private readonly SocketAddress? _peer;
    private readonly TunnelEndpoint _endpoint;
    private readonly byte[] _scratch;
    private readonly byte[]? _segments;
    private readonly byte[]? _headers;
    private bool _gso;
    private int _gsoSize;
    private int _closed;

    /// <summary>
    /// Creates a link; <paramref name="peer"/> null means the socket is connected and owned by the
    /// link. <paramref name="partialChecksums"/>: both ends agreed on offloads, so segments of super
    /// packets go with <see cref="TunnelFrameFlags.PartialChecksum"/>.
    /// </summary>
    public UdpPeerLink(Socket socket, SocketAddress? peer, TunnelEndpoint endpoint, string description, bool partialChecksums = false)
        : base(description)
    {
        PartialChecksums = partialChecksums;
        _socket = socket;
        _peer = peer;
        _endpoint = endpoint;
        _scratch = new byte[TunnelFrame.HeaderSize + endpoint.Options.MaxPacketSize];
        _segments = endpoint.Options.VnetHeader ? new byte[160 * 1024] : null;
        // Headers of up to ~1000 segments of a super packet (frame, IP and TCP headers each).
        _headers = endpoint.Options.VnetHeader ? new byte[64 * 1024] : null;
        // Only links that cut super packets touch UDP_SEGMENT; a shared server socket may carry
        // an earlier link's setting, hence "unknown" (-1) until set.
        _gso = endpoint.Options.VnetHeader;
        _gsoSize = _gso ? -1 : 0;
    }

    /// <summary>Whether segments of super packets are sent with a partial checksum (both ends agreed on offloads).</summary>
    public bool PartialChecksums { get; }

    /// <summary>The peer's address (server links).</summary>
    public SocketAddress? Peer => _peer;

    public override void Send(PacketBatch batch, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _closed) != 0, this);
        var vnet = _endpoint.Options.VnetHeader;
        var counters = _endpoint.Counters;
        long packets = 0;
        long bytes = 0;
        long wire = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            var buffer = batch.GetBuffer(i);
            var start = batch.Headroom;
            var length = batch.GetLength(i);
            if (vnet)
            {
                if (!VirtioNetHeader.TryCreate(buffer.Slice(start, length), out var header))
                {
                    counters.AddDropped(TunnelDropReason.Malformed);
                    continue;
                }

                start += VirtioNetHeader.Size;
                length -= VirtioNetHeader.Size;
                var body = buffer.Slice(start, length);
                if (header.GsoType != VirtioGsoType.None)
                {
                    // 0: dropped as malformed (counted there), not sent.
                    var sent = SendSegmented(body, header);
                    if (sent > 0)
                    {
                        packets++;
                        bytes += length;
                        wire += sent;
                    }

                    continue;
                }

                if (!GsoSegmenter.TryCompleteChecksum(body, header))
                {
                    counters.AddDropped(TunnelDropReason.Malformed);
                    continue;
                }
            }

            packets++;
            bytes += length;
            wire += SendPacket(buffer, start, length);
        }

        counters.AddTx(packets, bytes, wire);
    }

    /// <summary>
    /// Sends one frame as one datagram through <see cref="SendMessage"/>, as the segmented sends
    /// go. A send the kernel cannot take (ENOBUFS) or that a down or restarting server refused
    /// twice (ECONNREFUSED) is lost, as it would be on the way; other errors end the link.
    /// </summary>
    public unsafe void Send(ReadOnlySpan<byte> frame)
    {
        fixed (byte* data = frame)
        {
            var vector = new IoVector { Base = data, Length = (nuint)frame.Length };
            ThrowUnlessLost(SendMessage(&vector, 1, null, 0));
        }
    }

    /// <summary>Sends the packet at <paramref name="start"/> of <paramref name="region"/> as one frame, whose header goes into the <see cref="TunnelFrame.HeaderSize"/> bytes in front of it. Returns the frame length.</summary>
    private int SendPacket(Span<byte> region, int start, int length)
    {
        var packet = region.Slice(start, length);
        ReadOnlySpan<byte> frame;
        if (_endpoint.Options.Compress && PacketCompressor.TryCompress(packet, _scratch.AsSpan(TunnelFrame.HeaderSize), out var written))
        {
            TunnelFrame.WriteHeader(_scratch, TunnelFrameType.Data, TunnelFrameFlags.Compressed, written);
            frame = _scratch.AsSpan(0, TunnelFrame.HeaderSize + written);
        }
        else
        {
            var buffer = region[(start - TunnelFrame.HeaderSize)..];
            TunnelFrame.WriteHeader(buffer, TunnelFrameType.Data, TunnelFrameFlags.None, length);
            frame = buffer[..(TunnelFrame.HeaderSize + length)];
        }

        if (_gsoSize != 0 && (_gsoSize < 0 || frame.Length > _gsoSize))
        {
            // A datagram longer than the segment size set for super packets would be cut up.
            TrySetSegmentSize(0);
        }

        Send(frame);
        return frame.Length;
    }

    /// <summary>
    /// Cuts a super packet into frames and sends them. With UDP GSO: only the frame and packet
    /// headers of each segment are written (into <c>_headers</c>), and one <c>sendmsg</c> gathers
    /// them and the payload slices straight from the device buffer; the kernel cuts the byte
    /// stream into datagrams. Without (no GSO here, compression, a single segment): each segment
    /// is copied out and sent alone. Returns the wire bytes.
    /// </summary>
    private long SendSegmented(ReadOnlySpan<byte> body, in VirtioNetHeader header)
    {
        var networkOffset = GsoSegmenter.NetworkOffset(_endpoint.Options.Mode, body);
        if (_gso && _headers is not null && !_endpoint.Options.Compress)
        {
            var partial = PartialChecksums && PartialChecksum.CanSend(body, networkOffset, header.ChecksumStart);
            if (GsoSegmenter.TryWriteSegmentHeaders(body, header, networkOffset, _headers, TunnelFrame.HeaderSize, partial, out var layout) && layout.Count > 1)
            {
                _endpoint.Counters.AddSegmented(1);
                return SendGathered(body, header, networkOffset, layout, partial);
            }
        }

        return SendSegmentsOneByOne(body, header, networkOffset, 0, countSegmented: true);
    }

    /// <summary>Copies segments <paramref name="from"/> on into <c>_segments</c> and sends each as a datagram of its own.</summary>
    private long SendSegmentsOneByOne(ReadOnlySpan<byte> body, in VirtioNetHeader header, int networkOffset, int from, bool countSegmented)
    {
        var segmentsBuffer = _segments.AsSpan();
        if (!GsoSegmenter.TrySegment(body, header, networkOffset, segmentsBuffer, TunnelFrame.HeaderSize, out var segments))
        {
            _endpoint.Counters.AddDropped(TunnelDropReason.Malformed);
            return 0;
        }

        if (countSegmented)
        {
            _endpoint.Counters.AddSegmented(1);
        }

        long sent = 0;
        for (var s = from; s < segments.Count; s++)
        {
            sent += SendPacket(segmentsBuffer, segments.OffsetOf(s), segments.LengthOf(s));
        }

        return sent;
    }

    /// <summary>Sends the segments whose headers are in <c>_headers</c> with UDP GSO, up to <see cref="MaxGsoSegments"/> per <c>sendmsg</c>.</summary>
    private unsafe long SendGathered(ReadOnlySpan<byte> body, in VirtioNetHeader header, int networkOffset, GsoSegmentHeaders layout, bool partial)
    {
        var headers = _headers.AsSpan();
        var flags = partial ? TunnelFrameFlags.PartialChecksum : TunnelFrameFlags.None;
        for (var s = 0; s < layout.Count; s++)
        {
            TunnelFrame.WriteHeader(headers[(layout.HeadersOffsetOf(s) - TunnelFrame.HeaderSize)..], TunnelFrameType.Data, flags, layout.LengthOf(s));
        }

        var datagram = layout.WireSegmentLength;
        var perSend = SegmentsPerSend(datagram);
        var vectors = stackalloc IoVector[2 * MaxGsoSegments];
        var control = stackalloc byte[SegmentControlSpace];
        var item = (ControlMessageHeader*)control;
        item->Length = (nuint)(ControlMessageHeader.Size + sizeof(ushort));
        item->Level = TunnelEndpoint.SolUdp;
        item->Type = UdpSegment;
        *(ushort*)(control + ControlMessageHeader.Size) = (ushort)datagram;
        long wire = 0;
        fixed (byte* packet = body)
        fixed (byte* headerBytes = headers)
        {
            for (var first = 0; first < layout.Count; first += perSend)
            {
                var count = Math.Min(perSend, layout.Count - first);
                nuint bytes = 0;
                for (var k = 0; k < count; k++)
                {
                    var s = first + k;
                    var (offset, length) = layout.PayloadOf(s);
                    vectors[2 * k] = new IoVector { Base = headerBytes + (s * layout.Stride), Length = (nuint)layout.Stride };
                    vectors[(2 * k) + 1] = new IoVector { Base = packet + offset, Length = (nuint)length };
                    bytes += (nuint)(layout.Stride + length);
                }

                var errno = SendMessage(vectors, (nuint)(2 * count), count > 1 ? control : null, count > 1 ? SegmentControlSpace : 0);
                if (errno == 0)
                {
                    wire += (long)bytes;
                    continue;
                }

                if (errno is Errno.EIO or Errno.EINVAL or Errno.EMSGSIZE or Errno.EOPNOTSUPP)
                {
                    // Segments bigger than the path MTU, or no UDP GSO here: one by one from now on.
                    _gso = false;
                    _endpoint.Log($"peer {Description}: UDP segmentation offload refused ({Errno.Name(errno)}); sending datagrams one by one");
                    return wire + SendSegmentsOneByOne(body, header, networkOffset, first, countSegmented: false);
                }

                ThrowUnlessLost(errno);
            }
        }

        return wire;
    }

    /// <summary>The peer's address for <c>msg_name</c> (server links); empty when the socket is connected.</summary>
    private Memory<byte> PeerName => _peer is null ? Memory<byte>.Empty : _peer.Buffer[.._peer.Size];

    /// <summary>
    /// For an errno from <see cref="SendMessage"/>: nothing when sent (0), when the kernel had no
    /// buffer space (ENOBUFS) or when the server's port refused the send twice (ECONNREFUSED: down
    /// or restarting; the keepalive brings a restarted server back on this socket): those
    /// datagrams are lost, as they would be on the way. Anything else ends the link.
    /// </summary>
    private void ThrowUnlessLost(int errno)
    {
        if (errno is not (0 or Errno.ENOBUFS or Errno.ECONNREFUSED))
        {
            throw new SystemCallException($"send to peer {Description}", errno);
        }
    }

    /// <summary>How many datagrams of <paramref name="datagram"/> bytes one UDP GSO send carries.</summary>
    internal static int SegmentsPerSend(int datagram) => Math.Clamp(MaxGsoBytes / datagram, 1, MaxGsoSegments);

    /// <summary>
    /// The one <c>sendmsg</c> of this link: <paramref name="count"/> pieces (and the ancillary data,
    /// if any) to the peer, retried on EINTR and on a first ECONNREFUSED (an earlier datagram's ICMP
    /// port unreachable, reported instead of this send), waiting for room on EAGAIN; 0 when sent,
    /// else the errno.
    /// </summary>
    private unsafe int SendMessage(IoVector* vectors, nuint count, byte* control, int controlLength)
    {
        var added = false;
        try
        {
            _socket.SafeHandle.DangerousAddRef(ref added);
            var fd = (int)_socket.SafeHandle.DangerousGetHandle();
            var name = PeerName;
            fixed (byte* address = name.Span)
            {
                var message = new MessageHeader
                {
                    Name = name.IsEmpty ? null : address,
                    NameLength = (uint)name.Length,
                    Vectors = vectors,
                    VectorCount = count,
                    Control = control,
                    ControlLength = (nuint)controlLength,
                };
                var refused = false;
                while (true)
                {
                    if (Libc.Sendmsg(fd, &message, 0) >= 0)
                    {
                        return 0;
                    }

                    var errno = Syscall.LastErrno;
                    switch (errno)
                    {
                        case Errno.EINTR:
                            continue;
                        case Errno.ECONNREFUSED when !refused:
                            refused = true;
                            continue;
                        case Errno.EAGAIN:
                            ObjectDisposedException.ThrowIf(Volatile.Read(ref _closed) != 0, this);
                            _ = DescriptorPoll.Wait(_socket.SafeHandle, Libc.POLLOUT, 100);
                            continue;
                        default:
                            return errno;
                    }
                }
            }
        }
        finally
        {
            if (added)
            {
                _socket.SafeHandle.DangerousRelease();
            }
        }
    }

    /// <summary>Sets UDP_SEGMENT; false (and no more GSO on this link) when the kernel does not have it.</summary>
    private bool TrySetSegmentSize(int size)
    {
        if (TunnelEndpoint.TrySetOption(_socket, TunnelEndpoint.SolUdp, UdpSegment, size, stackalloc byte[sizeof(int)]))
        {
            _gsoSize = size;
            return true;
        }

        _gso = false;
        _gsoSize = 0;
        return false;
    }

    public override void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0 || _peer is not null)
        {
            return;
        }

        _socket.Dispose();
    }

    /// <summary>An owned copy of a receive address (which the receive loop reuses).</summary>
    public static SocketAddress Copy(SocketAddress address)
    {
        var copy = new SocketAddress(address.Family, address.Size);
        address.Buffer.Span[..address.Size].CopyTo(copy.Buffer.Span);
        return copy;
    }

    /// <summary>The address as text, e.g. <c>127.0.0.1:40000</c>.</summary>
    public static string Describe(SocketAddress address)
    {
        var template = address.Family == AddressFamily.InterNetworkV6 ? new IPEndPoint(IPAddress.IPv6Any, 0) : new IPEndPoint(IPAddress.Any, 0);
        var endpoint = (IPEndPoint)template.Create(address);
        return endpoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endpoint.Address.MapToIPv4(), endpoint.Port).ToString() : endpoint.ToString();
    }
}
