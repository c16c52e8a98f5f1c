using System.Net;
using System.Net.Sockets;
using TunTap.Buffers;
using TunTap.Devices;

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
    /// <summary>SOL_UDP.</summary>

    /// <summary>UDP_SEGMENT: the datagram size one send is cut into.</summary>
    private const int UdpSegment = 103;

    /// <summary>The kernel takes at most 64 segments per UDP GSO send (UDP_MAX_SEGMENTS on older kernels).</summary>
    private const int MaxGsoSegments = 64;

    /// <summary>A UDP GSO send must fit one UDP datagram's length field, IP header included.</summary>
    private const int MaxGsoBytes = 65_000;

    private readonly Socket _socket;
    private readonly SocketAddress? _peer;
    private readonly TunnelEndpoint _endpoint;
    private readonly byte[] _scratch;
    private readonly byte[]? _segments;
    private bool _gso;
    private int _gsoSize;
    private int _closed;

    /// <summary>Creates a link; <paramref name="peer"/> null means the socket is connected and owned by the link.</summary>
    public UdpPeerLink(Socket socket, SocketAddress? peer, TunnelEndpoint endpoint, string description)
        : base(description)
    {
        _socket = socket;
        _peer = peer;
        _endpoint = endpoint;
        _scratch = new byte[TunnelFrame.HeaderSize + endpoint.Options.MaxPacketSize];
        _segments = endpoint.Options.VnetHeader ? new byte[160 * 1024] : null;
        // Only links that cut super packets touch UDP_SEGMENT; a shared server socket may carry
        // an earlier link's setting, hence "unknown" (-1) until set.
        _gso = endpoint.Options.VnetHeader;
        _gsoSize = _gso ? -1 : 0;
    }

    /// <summary>The peer's address (server links).</summary>
    public SocketAddress? Peer => _peer;

    public override ValueTask SendAsync(PacketBatch batch, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _closed) != 0, this);
        var vnet = _endpoint.Options.VnetHeader;
        var counters = _endpoint.Counters;
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
                bytes += length;
                if (header.GsoType != VirtioGsoType.None)
                {
                    wire += SendSegmented(body, header);
                    continue;
                }

                if (!GsoSegmenter.TryCompleteChecksum(body, header))
                {
                    counters.AddDropped(TunnelDropReason.Malformed);
                    continue;
                }
            }
            else
            {
                bytes += length;
            }

            wire += SendPacket(buffer, start, length);
        }

        counters.AddTx(batch.Count, bytes, wire);
        return ValueTask.CompletedTask;
    }

    public void Send(ReadOnlySpan<byte> frame)
    {
        if (_peer is null)
        {
            _socket.Send(frame, SocketFlags.None);
        }
        else
        {
            _socket.SendTo(frame, SocketFlags.None, _peer);
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

    /// <summary>Cuts a super packet into frames and sends them, with UDP GSO when it works. Returns the wire bytes.</summary>
    private long SendSegmented(ReadOnlySpan<byte> body, in VirtioNetHeader header)
    {
        var counters = _endpoint.Counters;
        var segmentsBuffer = _segments.AsSpan();
        if (!GsoSegmenter.TrySegment(body, header, GsoSegmenter.NetworkOffset(_endpoint.Options.Mode, body), segmentsBuffer, TunnelFrame.HeaderSize, out var segments))
        {
            counters.AddDropped(TunnelDropReason.Malformed);
            return 0;
        }

        counters.AddSegmented(1);
        if (_endpoint.Options.Compress || !_gso || segments.Count == 1)
        {
            long sent = 0;
            for (var s = 0; s < segments.Count; s++)
            {
                sent += SendPacket(segmentsBuffer, segments.OffsetOf(s), segments.LengthOf(s));
            }

            return sent;
        }

        for (var s = 0; s < segments.Count; s++)
        {
            TunnelFrame.WriteHeader(segmentsBuffer[(segments.OffsetOf(s) - TunnelFrame.HeaderSize)..], TunnelFrameType.Data, TunnelFrameFlags.None, segments.LengthOf(s));
        }

        var stride = segments.Stride;
        var perSend = Math.Clamp(MaxGsoBytes / stride, 1, MaxGsoSegments);
        long wire = 0;
        for (var first = 0; first < segments.Count; first += perSend)
        {
            var count = Math.Min(perSend, segments.Count - first);
            var from = first * stride;
            var to = first + count == segments.Count ? segments.TotalLength : (first + count) * stride;
            var chunk = segmentsBuffer[from..to];
            try
            {
                if (_gsoSize != stride && !TrySetSegmentSize(stride))
                {
                    throw new SocketException((int)SocketError.ProtocolOption);
                }

                Send(chunk);
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.InvalidArgument or SocketError.MessageSize or SocketError.ProtocolOption or SocketError.OperationNotSupported or SocketError.SocketError)
            {
                // Segments bigger than the path MTU, or no UDP GSO here: send them one by one from
                // now on. While UDP_SEGMENT is set too big every send fails, so clear it first.
                _gso = false;
                TrySetSegmentSize(0);
                _endpoint.Log($"peer {Description}: UDP segmentation offload refused ({ex.Message}); sending datagrams one by one");
                for (var s = first; s < segments.Count; s++)
                {
                    wire += SendPacket(segmentsBuffer, segments.OffsetOf(s), segments.LengthOf(s));
                }

                return wire;
            }

            wire += chunk.Length;
        }

        return wire;
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
