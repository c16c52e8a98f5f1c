using System.Net.Sockets;
using TunTap.Buffers;
using TunTap.Devices;
using TunTap.Interop;

namespace TunTap.Tunnel;

/// <summary>
/// One TCP connection to the peer. Sending encodes a whole device batch into one buffer and
/// writes it with one send (a super packet to a peer that takes them goes in place, with its own
/// send); receiving reads big chunks, parses every complete frame and writes the packets to the
/// device in one batch (an offload frame goes to a TUN/TAP queue straight from the receive
/// buffer). On a TUN/TAP queue one thread drives both directions (<see cref="Run"/>): whatever
/// one direction produces (the ACKs the receiving stack answers with, or sends that free room)
/// is picked up on that thread's next turn instead of waking another thread, and it sleeps only
/// in one <c>poll()</c> on both descriptors. Any other device gets a thread per direction,
/// blocking calls each (see <see cref="TcpStream"/>).
/// </summary>
internal sealed class TcpPeerLink : PeerLink
{
    /// <summary>Offload frames at least this big are sent from the device buffer instead of being copied.</summary>
    private const int InPlaceThreshold = 16 * 1024;

    /// <summary>Longest single <c>poll()</c> before the cancellation token is looked at again.</summary>
    private const int PollSliceMilliseconds = 100;

    /// <summary>Room to cut one super packet into segments (frame header each) when the peer takes no offloads.</summary>
    private const int SegmentScratchSize = 160 * 1024;

    private readonly Socket _socket;
    private readonly TcpStream _stream;
    private readonly TunnelEndpoint _endpoint;
    private readonly TunnelFrameReader _reader;
    private readonly byte[] _sendBuffer;
    private readonly byte[]? _scratch;
    private readonly bool _vnet;
    private readonly TaskCompletionSource<string> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _offload;
    private int _closed;

    // The device batch being sent: the next packet to frame, what is counted when it is done,
    // and the bytes (in the send buffer or in place in the batch) that are on their way now.
    private PacketBatch? _pending;
    private int _pendingNext;
    private long _pendingBytes;
    private long _pendingPackets;
    private long _pendingWire;
    private byte[]? _chunk;
    private int _chunkStart;
    private int _chunkEnd;

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

    /// <summary>Completes when the link ended (its reason, or why it failed) once <see cref="Run"/> drives it or it was closed.</summary>
    public Task<string> Ended => _ended.Task;

    /// <summary>Sends the batch with blocking calls (waiting in <c>poll()</c> while the socket's buffer is full).</summary>
    public override void Send(PacketBatch batch, CancellationToken cancellationToken)
    {
        BeginSend(batch);
        while (_pending is not null)
        {
            if (!ContinueSend())
            {
                cancellationToken.ThrowIfCancellationRequested();
                _ = DescriptorPoll.Wait(_stream.Handle, Libc.POLLOUT, PollSliceMilliseconds);
            }
        }
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

    /// <summary>
    /// Serves the link on the calling thread (its connection thread, after the hello) until it
    /// ends; returns why. When the endpoint's pump drives it (<see cref="Run"/>), this only waits.
    /// Garbage throws <see cref="TunnelProtocolException"/>.
    /// </summary>
    public string Serve(CancellationToken cancellationToken)
    {
        if (_endpoint.DeviceQueue is null)
        {
            return ReceiveLoop(cancellationToken);
        }

        // WaitAny does not throw for a failed link; GetResult rethrows its own exception.
        Task.WaitAny([_ended.Task], cancellationToken);
        return _ended.Task.GetAwaiter().GetResult();
    }

    /// <summary>
    /// Drives both directions on the calling thread (the endpoint's pump) until the link ends,
    /// then completes <see cref="Ended"/>: packets read from <paramref name="queue"/> into
    /// <paramref name="batch"/> go to the peer, frames from the peer go to the device. Every call
    /// is non-blocking; with nothing to do it waits in one <c>poll()</c> for the socket and (while
    /// no send is pending) the device. Throws only <see cref="OperationCanceledException"/> and
    /// device errors; a batch left unsent when the link ends is counted as dropped.
    /// </summary>
    public void Run(TunQueue queue, PacketBatch batch, CancellationToken cancellationToken)
    {
        try
        {
            _ended.TrySetResult(DriveBothDirections(queue, batch, cancellationToken));
        }
        catch (Exception ex) when (ex is TunnelProtocolException or TunnelMismatchException || TunnelEndpoint.IsLinkFailure(ex))
        {
            if (Volatile.Read(ref _closed) != 0)
            {
                _ended.TrySetResult("closed");
            }
            else
            {
                _ended.TrySetException(ex);
            }
        }
        catch (Exception ex)
        {
            _ended.TrySetException(ex);
            throw;
        }
        finally
        {
            if (_pending is { } unsent)
            {
                _endpoint.Counters.AddDropped(TunnelDropReason.LinkDown, unsent.Count);
                _pending = null;
            }
        }
    }

    /// <summary>Moves packets from the socket to the device until the peer closes; returns why it stopped. Garbage throws <see cref="TunnelProtocolException"/>.</summary>
    public string ReceiveLoop(CancellationToken cancellationToken)
    {
        var options = _endpoint.Options;
        using var batch = new PacketBatch(options.DeviceBatchSize, options.DevicePacketSize);
        while (true)
        {
            DeliverBuffered(batch, cancellationToken);
            var received = _stream.Receive(_reader.GetFreeMemory().Span, cancellationToken);
            if (received == 0)
            {
                return PeerClosed();
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

        _ended.TrySetResult("closed");
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

    private string DriveBothDirections(TunQueue queue, PacketBatch batch, CancellationToken cancellationToken)
    {
        var options = _endpoint.Options;
        using var received = new PacketBatch(options.DeviceBatchSize, options.DevicePacketSize);
        var device = queue.FileDescriptor;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            DeliverBuffered(received, cancellationToken);
            var busy = false;
            var got = _stream.TryReceive(_reader.GetFreeMemory().Span);
            if (got == 0)
            {
                return PeerClosed();
            }

            if (got > 0)
            {
                _reader.Advance(got);
                busy = true;
            }

            if (_pending is null && queue.ReadBatch(batch, TimeSpan.Zero) > 0)
            {
                _endpoint.TakeDeviceBatch(batch);
                BeginSend(batch);
                busy = true;
            }

            if (_pending is not null)
            {
                busy |= ContinueSend();
            }

            if (!busy)
            {
                var sending = _pending is not null;
                _ = DescriptorPoll.Wait(
                    _stream.Handle,
                    (short)(Libc.POLLIN | (sending ? Libc.POLLOUT : 0)),
                    device,
                    sending ? (short)0 : Libc.POLLIN,
                    PollSliceMilliseconds);
            }
        }
    }

    /// <summary>Writes every complete frame the reader holds to the device.</summary>
    private void DeliverBuffered(PacketBatch batch, CancellationToken cancellationToken)
    {
        var writer = _endpoint.Writer;
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

            if (step == ReceiveStep.NeedMore)
            {
                return;
            }
        }
    }

    /// <summary>Why the stream ended at a receive of 0 bytes: the peer closed, or this end did (no drop to count then).</summary>
    private string PeerClosed() => Volatile.Read(ref _closed) != 0 ? "closed"
        : _reader.Buffered > 0 ? throw ClosedEarly("in the middle of a frame")
        : "closed by the peer";

    /// <summary>Starts sending <paramref name="batch"/>; <see cref="ContinueSend"/> does the sending.</summary>
    private void BeginSend(PacketBatch batch)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _closed) != 0, this);
        _pending = batch;
        _pendingNext = 0;
        _pendingBytes = 0;
        _pendingPackets = 0;
        _pendingWire = 0;
        _chunk = null;
        _chunkStart = 0;
        _chunkEnd = 0;
    }

    /// <summary>
    /// Sends of the pending batch what the socket takes without waiting; true when something was
    /// sent. When the whole batch is sent it is counted and no longer pending.
    /// </summary>
    private bool ContinueSend()
    {
        var progressed = false;
        while (true)
        {
            if (_chunkStart == _chunkEnd && !NextChunk())
            {
                _endpoint.Counters.AddTx(_pendingPackets, _pendingBytes, _pendingWire);
                _pending = null;
                _chunk = null;
                return true;
            }

            var sent = _stream.TrySend(_chunk.AsSpan(_chunkStart, _chunkEnd - _chunkStart));
            if (sent == TcpStream.WouldBlock)
            {
                return progressed;
            }

            _chunkStart += sent;
            _pendingWire += sent;
            progressed = true;
        }
    }

    /// <summary>
    /// Frames the next packets of the pending batch: a big offload frame in place in front of its
    /// packet, anything else encoded into the send buffer (as many as fit). False when the batch
    /// has nothing left to send.
    /// </summary>
    private bool NextChunk()
    {
        var batch = _pending!;
        if (!_vnet)
        {
            if (_pendingNext >= batch.Count)
            {
                return false;
            }

            var length = EncodeBatch(batch, out _pendingBytes);
            _pendingPackets = batch.Count;
            _pendingNext = batch.Count;
            SetChunk(_sendBuffer, 0, length);
            return length > 0;
        }

        var compress = _endpoint.Options.Compress;
        var offset = 0;
        while (_pendingNext < batch.Count)
        {
            var i = _pendingNext;
            var length = batch.GetLength(i);
            var inPlace = _offload && !compress && length >= InPlaceThreshold;
            if (offset > 0 && (inPlace || EncodedLengthBound(batch[i]) > _sendBuffer.Length - offset))
            {
                // What is encoded goes first.
                break;
            }

            _pendingNext++;
            if (inPlace)
            {
                _pendingPackets++;
                _pendingBytes += length - VirtioNetHeader.Size;
                var headerSize = TunnelFrame.HeaderSizeFor(length);
                var start = batch.Headroom - headerSize;
                TunnelFrame.WriteHeader(batch.GetBuffer(i)[start..], TunnelFrameType.Data, TunnelFrameFlags.VnetHeader, length);
                SetChunk(batch.GetArray(i), start, headerSize + length);
                return true;
            }

            var encoded = EncodeDevicePacket(batch[i], _sendBuffer.AsSpan(offset));
            if (encoded > 0)
            {
                // 0: dropped as malformed (counted there), not sent.
                _pendingPackets++;
                _pendingBytes += Math.Max(0, length - VirtioNetHeader.Size);
                offset += encoded;
            }
        }

        SetChunk(_sendBuffer, 0, offset);
        return offset > 0;
    }

    private void SetChunk(byte[] array, int start, int length)
    {
        _chunk = array;
        _chunkStart = start;
        _chunkEnd = start + length;
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
