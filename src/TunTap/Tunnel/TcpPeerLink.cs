using System.Net.Sockets;
using System.Runtime.CompilerServices;
using TunTap.Buffers;

namespace TunTap.Tunnel;

/// <summary>
/// One TCP connection to the peer. Sending encodes a whole device batch into one buffer and
/// writes it with one send; receiving reads big chunks, parses every complete frame and writes
/// the packets to the device in one batch.
/// </summary>
internal sealed class TcpPeerLink : PeerLink
{
    private readonly Socket _socket;
    private readonly TunnelEndpoint _endpoint;
    private readonly TunnelFrameReader _reader;
    private readonly byte[] _sendBuffer;
    private readonly int _maxPacket;
    private int _closed;

    public TcpPeerLink(Socket socket, TunnelEndpoint endpoint, string description)
        : base(description)
    {
        _socket = socket;
        _endpoint = endpoint;
        _maxPacket = endpoint.Options.MaxPacketSize;
        _reader = new TunnelFrameReader(_maxPacket, Math.Max(256 * 1024, 4 * (TunnelFrame.HeaderSize + _maxPacket)));
        _sendBuffer = new byte[endpoint.Options.BatchSize * (TunnelFrame.HeaderSize + _maxPacket)];
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

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public override async ValueTask SendAsync(PacketBatch batch, CancellationToken cancellationToken)
    {
        var length = EncodeBatch(batch, out var bytes);
        await _socket.SendAsync(_sendBuffer.AsMemory(0, length), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        _endpoint.Counters.AddTx(batch.Count, bytes, length);
    }

    /// <summary>Exchanges hellos. Throws <see cref="TunnelMismatchException"/> (after telling the peer) or <see cref="TunnelProtocolException"/>.</summary>
    public async Task HandshakeAsync(CancellationToken cancellationToken)
    {
        var local = _endpoint.Hello;
        var frame = new byte[TunnelFrame.HeaderSize + TunnelHello.Size];
        TunnelFrame.WriteHello(frame, TunnelFrameType.Hello, local);
        await _socket.SendAsync(frame, SocketFlags.None, cancellationToken).ConfigureAwait(false);

        var timeout = _endpoint.Options.HandshakeTimeout;
        using var timer = new CancellationTokenSource(timeout, _endpoint.Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        try
        {
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
                            await _socket.SendAsync(frame, SocketFlags.None, linked.Token).ConfigureAwait(false);
                        }
                        catch (SocketException)
                        {
                            // The peer may already have closed after detecting the same mismatch.
                        }

                        throw new TunnelMismatchException(mismatch!);
                    default:
                        var received = await _socket.ReceiveAsync(_reader.GetFreeMemory(), SocketFlags.None, linked.Token).ConfigureAwait(false);
                        if (received == 0)
                        {
                            throw ClosedEarly("before completing the hello");
                        }

                        _reader.Advance(received);
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TunnelProtocolException($"no hello within {timeout.TotalSeconds:0.###} s");
        }
    }

    /// <summary>Moves packets from the socket to the device until the peer closes; returns why it stopped. Garbage throws <see cref="TunnelProtocolException"/>.</summary>
    public async Task<string> ReceiveLoopAsync(CancellationToken cancellationToken)
    {
        using var batch = new PacketBatch(_endpoint.Options.BatchSize, _maxPacket);
        while (true)
        {
            var step = ProcessBuffered(batch);
            await _endpoint.Writer.FlushAsync(batch, cancellationToken).ConfigureAwait(false);
            if (step == ReceiveStep.BatchFull)
            {
                continue;
            }

            var received = await _socket.ReceiveAsync(_reader.GetFreeMemory(), SocketFlags.None, cancellationToken).ConfigureAwait(false);
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

    private ReceiveStep ProcessBuffered(PacketBatch batch)
    {
        var counters = _endpoint.Counters;
        while (batch.Count < batch.Capacity)
        {
            var result = _reader.TryRead(out var header, out var payload);
            switch (result)
            {
                case TunnelFrameReadResult.NeedMore:
                    return ReceiveStep.NeedMore;
                case TunnelFrameReadResult.Frame when header.Type == TunnelFrameType.Data:
                    counters.AddRxWire(TunnelFrame.HeaderSize + payload.Length);
                    var slot = batch.Count;
                    if (TunnelFrame.TryReadData(header.Flags, payload, batch.GetWritable(slot), out var length, out var reason))
                    {
                        batch.SetLength(slot, length);
                        batch.Count = slot + 1;
                    }
                    else
                    {
                        counters.AddDropped(reason);
                    }

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
            return new TunnelProtocolException($"frame length {header.Length} exceeds the maximum {_maxPacket}");
        }

        _endpoint.Counters.AddDropped(TunnelDropReason.Malformed);
        return new TunnelProtocolException($"not a tunnel peer: unknown frame type {(byte)header.Type} with flags {(byte)header.Flags}");
    }
}
