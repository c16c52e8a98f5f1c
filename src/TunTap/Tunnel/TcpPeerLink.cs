using System.Net.Sockets;
using TunTap.Buffers;
using TunTap.Devices;

namespace TunTap.Tunnel;

/// <summary>
/// One TCP connection to the peer. Sending encodes a whole device batch into one buffer and
/// writes it with one send (a super packet to a peer that takes them goes in place, with its own
/// send); receiving reads big chunks, parses every complete frame and writes the packets to the
/// device in one batch (an offload frame goes to a TUN/TAP queue straight from the receive
/// buffer). All of it is blocking calls on the threads that own the two directions (see
/// <see cref="TcpStream"/>).
/// </summary>
internal sealed class TcpPeerLink : PeerLink
{
    /// <summary>Offload frames at least this big are sent from the device buffer instead of being copied.</summary>
    private const int InPlaceThreshold = 16 * 1024;

    /// <summary>Room to cut one super packet into segments (frame header each) when the peer takes no offloads.</summary>
    private const int SegmentScratchSize = 160 * 1024;

    private readonly Socket _socket;
    private readonly TcpStream _stream;
    private readonly TunnelEndpoint _endpoint;
    private readonly TunnelFrameReader _reader;
    private readonly byte[] _sendBuffer;
    private readonly byte[]? _scratch;
    private readonly bool _vnet;
    private bool _offload;
    private int _closed;

    public TcpPeerLink(Socket socket, TunnelEndpoint endpoint, string description)
        : base(description)
    {
        _socket = socket;
        _stream = new TcpStream(socket);
        _endpoint = endpoint;
        endpoint.TuneTcpSocket(socket);
        var options = endpoint.Options;
        _vnet = options.VnetHeader;
        var maxPacket = options.MaxPacketSize;
        var largest = VirtioNetHeader.Size + TunnelOptions.MaxSuperPacketSize;
        _reader = new TunnelFrameReader(maxPacket, Math.Max(256 * 1024, 4 * (TunnelFrame.LongHeaderSize + (_vnet ? largest : maxPacket))));
        _sendBuffer = new byte[Math.Max(options.BatchSize * (TunnelFrame.HeaderSize + maxPacket), _vnet ? SegmentScratchSize + largest : 0)];
        _scratch = _vnet && options.Compress ? new byte[SegmentScratchSize] : null;
    }

    private enum HelloStep
    {
        NeedMore,
        Accepted,
        Mismatch,
    }

    private enum ReceiveStep
    {
        NeedMore,
        BatchFull,
    }

    /// <summary>Sends the batch with blocking calls (waiting in <c>poll()</c> while the socket's buffer is full); completes synchronously.</summary>
    public override ValueTask SendAsync(PacketBatch batch, CancellationToken cancellationToken)
    {
        Send(batch, cancellationToken);
        return ValueTask.CompletedTask;
    }

    /// <summary>Exchanges hellos. Throws <see cref="TunnelMismatchException"/> (after telling the peer) or <see cref="TunnelProtocolException"/>.</summary>
    public void Handshake(CancellationToken cancellationToken)
    {
        var local = _endpoint.Hello;
        Span<byte> frame = stackalloc byte[TunnelFrame.HeaderSize + TunnelHello.Size];
        TunnelFrame.WriteHello(frame, TunnelFrameType.Hello, local);
        _stream.Send(frame, cancellationToken);

        var timeout = _endpoint.Options.HandshakeTimeout;
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            switch (TakeHello(local, out var mismatch))
            {
                case HelloStep.Accepted:
                    return;
                case HelloStep.Mismatch:
                    TunnelFrame.WriteHello(frame, TunnelFrameType.HelloReject, local);
                    try
                    {
                        _stream.Send(frame, cancellationToken);
                    }
                    catch (SystemCallException)
                    {
                        // The peer may already have closed after detecting the same mismatch.
                    }

                    throw new TunnelMismatchException(mismatch!);
                default:
                    var received = _stream.Receive(_reader.GetFreeMemory().Span, cancellationToken, deadline);
                    if (received < 0)
                    {
                        throw new TunnelProtocolException($"no hello within {timeout.TotalSeconds:0.###} s");
                    }

                    if (received == 0)
                    {
                        throw ClosedEarly("before completing the hello");
                    }

                    _reader.Advance(received);
                    break;
            }
        }
    }

    /// <summary>Moves packets from the socket to the device until the peer closes; returns why it stopped. Garbage throws <see cref="TunnelProtocolException"/>.</summary>
    public string ReceiveLoop(CancellationToken cancellationToken)
    {
        var options = _endpoint.Options;
        var writer = _endpoint.Writer;
        using var batch = new PacketBatch(options.DeviceBatchSize, options.DevicePacketSize);
        while (true)
        {
            var step = ProcessBuffered(batch, cancellationToken);
            if (_offload)
            {
                writer.Flush(batch, cancellationToken);
            }
            else
            {
                writer.FlushCoalesced(batch, cancellationToken);
            }

            if (step == ReceiveStep.BatchFull)
            {
                continue;
            }

            var received = _stream.Receive(_reader.GetFreeMemory().Span, cancellationToken);
            if (received == 0)
            {
                if (_reader.Buffered > 0)
                {
                    throw ClosedEarly("in the middle of a frame");
                }

                return "closed by the peer";
            }

            _reader.Advance(received);
        }
    }

    public override void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Not connected (any more): nothing to shut down.
        }

        _socket.Dispose();
    }

    private void Send(PacketBatch batch, CancellationToken cancellationToken)
    {
        if (!_vnet)
        {
            var length = EncodeBatch(batch, out var plainBytes);
            _stream.Send(_sendBuffer.AsSpan(0, length), cancellationToken);
            _endpoint.Counters.AddTx(batch.Count, plainBytes, length);
            return;
        }

        var compress = _endpoint.Options.Compress;
        var offset = 0;
        long bytes = 0;
        long wire = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            var length = batch.GetLength(i);
            bytes += Math.Max(0, length - VirtioNetHeader.Size);
            if (_offload && !compress && length >= InPlaceThreshold)
            {
                wire += Drain(ref offset, cancellationToken);
                var frame = FrameInPlace(batch, i);
                _stream.Send(frame, cancellationToken);
                wire += frame.Length;
                continue;
            }

            if (EncodedLengthBound(batch[i]) > _sendBuffer.Length - offset)
            {
                wire += Drain(ref offset, cancellationToken);
            }

            offset += EncodeDevicePacket(batch[i], _sendBuffer.AsSpan(offset));
        }

        wire += Drain(ref offset, cancellationToken);
        _endpoint.Counters.AddTx(batch.Count, bytes, wire);
    }

    /// <summary>Sends what the send buffer holds (if anything) and empties it; returns the bytes sent.</summary>
    private int Drain(ref int offset, CancellationToken cancellationToken)
    {
        var sent = offset;
        if (sent > 0)
        {
            _stream.Send(_sendBuffer.AsSpan(0, sent), cancellationToken);
            offset = 0;
        }

        return sent;
    }

    /// <summary>Writes the frame header into the headroom in front of packet <paramref name="index"/>; returns header and packet.</summary>
    private static ReadOnlySpan<byte> FrameInPlace(PacketBatch batch, int index)
    {
        var length = batch.GetLength(index);
        var headerSize = TunnelFrame.HeaderSizeFor(length);
        var start = batch.Headroom - headerSize;
        TunnelFrame.WriteHeader(batch.GetBuffer(index)[start..], TunnelFrameType.Data, TunnelFrameFlags.VnetHeader, length);
        return batch.GetArray(index).AsSpan(start, headerSize + length);
    }

    /// <summary>The most bytes <see cref="EncodeDevicePacket"/> writes for this packet.</summary>
    private int EncodedLengthBound(ReadOnlySpan<byte> packet)
    {
        if (_offload || packet.Length < VirtioNetHeader.Size)
        {
            return TunnelFrame.LongHeaderSize + packet.Length;
        }

        VirtioNetHeader.TryCreate(packet, out var header);
        var body = packet[VirtioNetHeader.Size..];
        if (header.GsoType == VirtioGsoType.None)
        {
            return TunnelFrame.HeaderSize + body.Length;
        }

        var segmented = GsoSegmenter.SegmentedLength(body, header, GsoSegmenter.NetworkOffset(_endpoint.Options.Mode, body), TunnelFrame.HeaderSize);
        return segmented < 0 ? 0 : segmented;
    }

    /// <summary>
    /// Encodes one packet read from a virtio-net-header device: whole (offload frame) to a peer
    /// that agreed, otherwise as plain packets: checksum completed, super packets cut into
    /// segments. Returns the bytes written; 0 for a packet dropped (and counted).
    /// </summary>
    private int EncodeDevicePacket(Span<byte> packet, Span<byte> destination)
    {
        var compress = _endpoint.Options.Compress;
        if (_offload)
        {
            return TunnelFrame.WriteData(packet, destination, compress, TunnelFrameFlags.VnetHeader);
        }

        var counters = _endpoint.Counters;
        if (!VirtioNetHeader.TryCreate(packet, out var header))
        {
            counters.AddDropped(TunnelDropReason.Malformed);
            return 0;
        }

        var body = packet[VirtioNetHeader.Size..];
        if (header.GsoType == VirtioGsoType.None)
        {
            if (!GsoSegmenter.TryCompleteChecksum(body, header))
            {
                counters.AddDropped(TunnelDropReason.Malformed);
                return 0;
            }

            return TunnelFrame.WriteData(body, destination, compress);
        }

        var networkOffset = GsoSegmenter.NetworkOffset(_endpoint.Options.Mode, body);
        if (!compress)
        {
            // Segments land with a frame header's gap in front of each: fill the gaps, done.
            if (!GsoSegmenter.TrySegment(body, header, networkOffset, destination, TunnelFrame.HeaderSize, out var direct))
            {
                counters.AddDropped(TunnelDropReason.Malformed);
                return 0;
            }

            for (var s = 0; s < direct.Count; s++)
            {
                TunnelFrame.WriteHeader(destination[(direct.OffsetOf(s) - TunnelFrame.HeaderSize)..], TunnelFrameType.Data, TunnelFrameFlags.None, direct.LengthOf(s));
            }

            counters.AddSegmented(1);
            return direct.TotalLength;
        }

        if (!GsoSegmenter.TrySegment(body, header, networkOffset, _scratch, 0, out var segments))
        {
            counters.AddDropped(TunnelDropReason.Malformed);
            return 0;
        }

        var offset = 0;
        for (var s = 0; s < segments.Count; s++)
        {
            offset += TunnelFrame.WriteData(_scratch.AsSpan(segments.OffsetOf(s), segments.LengthOf(s)), destination[offset..], compress);
        }

        counters.AddSegmented(1);
        return offset;
    }

    private int EncodeBatch(PacketBatch batch, out long bytes)
    {
        var compress = _endpoint.Options.Compress;
        var offset = 0;
        bytes = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            var packet = batch[i];
            bytes += packet.Length;
            offset += TunnelFrame.WriteData(packet, _sendBuffer.AsSpan(offset), compress);
        }

        return offset;
    }

    private TunnelProtocolException ClosedEarly(string when)
    {
        _endpoint.Counters.AddDropped(TunnelDropReason.Malformed);
        return new TunnelProtocolException(_reader.Buffered > 0
            ? $"connection closed {when}, {_reader.Buffered} bytes of an incomplete frame left"
            : $"connection closed {when}");
    }

    private HelloStep TakeHello(TunnelHello local, out string? mismatch)
    {
        mismatch = null;
        var result = _reader.TryRead(out var header, out var payload);
        switch (result)
        {
            case TunnelFrameReadResult.NeedMore:
                return HelloStep.NeedMore;
            case TunnelFrameReadResult.Frame when header.Type == TunnelFrameType.Hello:
                if (!TunnelHello.TryDecode(payload, out var peer))
                {
                    _endpoint.Counters.AddDropped(TunnelDropReason.Malformed);
                    throw new TunnelProtocolException("not a tunnel peer: its hello has the wrong magic or length");
                }

                mismatch = local.DescribeMismatch(peer);
                if (mismatch is null && local.AgreesOnOffload(peer))
                {
                    _offload = true;
                    _reader.MaxPayload = VirtioNetHeader.Size + TunnelOptions.MaxSuperPacketSize;
                }

                return mismatch is null ? HelloStep.Accepted : HelloStep.Mismatch;
            case TunnelFrameReadResult.Frame when header.Type == TunnelFrameType.HelloReject:
                throw Rejected(local, payload);
            case TunnelFrameReadResult.Frame:
                _endpoint.Counters.AddDropped(TunnelDropReason.Malformed);
                throw new TunnelProtocolException($"expected a hello, got a {header.Type} frame");
            default:
                throw Garbage(result, header);
        }
    }

    private ReceiveStep ProcessBuffered(PacketBatch batch, CancellationToken cancellationToken)
    {
        var counters = _endpoint.Counters;
        var writer = _endpoint.Writer;
        var inPlace = _offload && writer.CanWriteInPlace;
        while (batch.Count < batch.Capacity)
        {
            var result = _reader.TryRead(out var header, out var payload);
            switch (result)
            {
                case TunnelFrameReadResult.NeedMore:
                    return ReceiveStep.NeedMore;
                case TunnelFrameReadResult.Frame when inPlace && IsPlainOffloadFrame(header, payload):
                    // Straight from the receive buffer to the device; what was batched before goes first.
                    counters.AddRxWire(header.Size + payload.Length);
                    writer.Flush(batch, cancellationToken);
                    writer.WriteInPlace(payload);
                    break;
                case TunnelFrameReadResult.Frame when header.Type == TunnelFrameType.Data:
                    _endpoint.AddData(header, payload, batch, _offload);
                    break;
                case TunnelFrameReadResult.Frame when header.Type == TunnelFrameType.HelloReject:
                    throw Rejected(_endpoint.Hello, payload);
                case TunnelFrameReadResult.Frame:
                    counters.AddDropped(TunnelDropReason.Malformed);
                    throw new TunnelProtocolException($"unexpected {header.Type} frame after the hello");
                default:
                    throw Garbage(result, header);
            }
        }

        return ReceiveStep.BatchFull;
    }

    /// <summary>An uncompressed data frame carrying a packet with its virtio-net header: written to the device as it is.</summary>
    private static bool IsPlainOffloadFrame(TunnelFrameHeader header, ReadOnlySpan<byte> payload) =>
        header.Type == TunnelFrameType.Data
        && (header.Flags & (TunnelFrameFlags.VnetHeader | TunnelFrameFlags.Compressed)) == TunnelFrameFlags.VnetHeader
        && payload.Length >= VirtioNetHeader.Size;

    private Exception Rejected(TunnelHello local, ReadOnlySpan<byte> payload)
    {
        if (!TunnelHello.TryDecode(payload, out var peer))
        {
            _endpoint.Counters.AddDropped(TunnelDropReason.Malformed);
            return new TunnelProtocolException("not a tunnel peer: its hello-reject has the wrong magic or length");
        }

        return new TunnelMismatchException(local.DescribeMismatch(peer) ?? "the peer rejected this end's hello");
    }

    private TunnelProtocolException Garbage(TunnelFrameReadResult result, TunnelFrameHeader header)
    {
        if (result == TunnelFrameReadResult.Oversize)
        {
            _endpoint.Counters.AddDropped(TunnelDropReason.Oversize);
            return new TunnelProtocolException($"frame length {header.Length} exceeds the maximum {_reader.MaxPayload}");
        }

        _endpoint.Counters.AddDropped(TunnelDropReason.Malformed);
        return new TunnelProtocolException($"not a tunnel peer: unknown frame type {(byte)header.Type} with flags {(byte)header.Flags}");
    }
}
