using System.Net;
using System.Net.Sockets;
using TunTap.Buffers;
using TunTap.Devices;
using TunTap.Interop;

namespace TunTap.Tunnel;

/// <content>The UDP server and client roles: one frame per datagram.</content>
public sealed partial class TunnelEndpoint
{
    /// <summary>What <see cref="WaitForDatagram"/> returns when its deadline passed.</summary>
    private const int TimedOut = -2;

    /// <summary>What <see cref="TryReceiveDatagram"/> returns when no datagram is queued.</summary>
    private const int NothingQueued = -3;

    /// <summary>Longest single <c>poll()</c> of a receive loop before it looks at its cancellation token again.</summary>
    private const int UdpWaitSliceMilliseconds = 100;

    private UdpPeerLink? _udpPeer;

    /// <summary>Gather receive (see <see cref="NewUdpReceiveBuffer"/>): the pinned receive buffers of one round, the first also the handshake's.</summary>
    private byte[][]? _udpSources;

    /// <summary>Gather receive: merges the segments of a round where they were received.</summary>
    private TcpGatherCoalescer? _gather;

    /// <summary>Gather receive: wire bytes of the round's data frames, added to the counters once per round (not once per segment).</summary>
    private long _gatheredWireBytes;

    /// <summary>Client: the peer's port was reported unreachable (ICMP) and nothing came from it since.</summary>
    private bool _peerUnreachable;

    /// <summary>SOL_UDP.</summary>
    internal const int SolUdp = 17;

    /// <summary>Linux SOL_SOCKET (raw socket options take the kernel's numbers; SocketOptionLevel.Socket is Windows' 0xffff).</summary>
    private const int SolSocket = 1;

    /// <summary>Linux SO_RCVBUF (capped at net.core.rmem_max; the fallback without CAP_NET_ADMIN).</summary>
    private const int SoReceiveBuffer = 8;

    /// <summary>UDP_GRO: the kernel may hand over several datagrams of one sender in one receive.</summary>
    private const int UdpGro = 104;

    /// <summary>SO_RCVBUFFORCE: a receive buffer above the rmem_max limit (CAP_NET_ADMIN).</summary>
    private const int SoReceiveBufferForce = 33;

    /// <summary>Receive buffer asked for (the kernel doubles it): many GSO bursts' worth of datagrams.</summary>
    private const int UdpSocketBufferSize = 4 << 20;

    /// <summary>UDP GRO coalesces at most 64 datagrams into one receive.</summary>
    private const int MaxFramesPerReceive = 64;

    /// <summary>A receive holds one datagram or, with UDP GRO, up to 64 KiB of them.</summary>
    private const int UdpReceiveBufferSize = 65_536 + TunnelFrame.LongHeaderSize;

    private int UdpBatchSize => Math.Max(Options.BatchSize, 2 * MaxFramesPerReceive);

    /// <summary>A received packet, behind a virtio-net header when the device has them.</summary>
    private int UdpReceiveSlotSize => Options.MaxPacketSize + (Options.VnetHeader ? VirtioNetHeader.Size : 0);

    /// <summary>
    /// The first receive buffer. With a virtio-net header and no compression, received segments
    /// are not copied: up to <see cref="TcpGatherCoalescer.MaxSources"/> receives of a round go
    /// into pinned buffers of their own, are merged in place and written with gather writes.
    /// Otherwise each packet is copied into a batch slot and <see cref="DeviceWriter.FlushCoalesced"/>
    /// merges them.
    /// </summary>
    private byte[] NewUdpReceiveBuffer()
    {
        if (!Options.VnetHeader || Options.Compress)
        {
            return new byte[UdpReceiveBufferSize];
        }

        _udpSources = new byte[TcpGatherCoalescer.MaxSources][];
        for (var i = 0; i < _udpSources.Length; i++)
        {
            _udpSources[i] = GC.AllocateUninitializedArray<byte>(UdpReceiveBufferSize, pinned: true);
        }

        _gather = new TcpGatherCoalescer(Options.Mode, TcpGatherCoalescer.MaxSources * MaxFramesPerReceive, Options.DevicePacketSize);
        return _udpSources[0];
    }

    /// <summary>Whether one more receive fits the round: a batch with room for a full GRO receive, or a free gather buffer.</summary>
    private bool HasRoomForReceive(PacketBatch batch, int source) =>
        _udpSources is null ? batch.Capacity - batch.Count >= MaxFramesPerReceive : source < _udpSources.Length;

    /// <summary>The buffer receive <paramref name="source"/> of a round goes into.</summary>
    private byte[] ReceiveBufferFor(byte[] first, int source) => _udpSources is null ? first : _udpSources[source];

    /// <summary>Writes what a round received to the device.</summary>
    private void FlushUdpRound(PacketBatch batch, CancellationToken cancellationToken)
    {
        if (_gather is null)
        {
            Writer.FlushCoalesced(batch, cancellationToken);
        }
        else
        {
            CountGatheredWireBytes();
            Writer.WriteGathered(_gather, _udpSources!, cancellationToken);
        }
    }

    private void CountGatheredWireBytes()
    {
        Counters.AddRxWire(_gatheredWireBytes);
        _gatheredWireBytes = 0;
    }

    /// <summary>
    /// A data frame from the peer: copied into the batch, or (gather receive) taken where it lies,
    /// at <paramref name="offset"/> of receive buffer <paramref name="source"/>.
    /// </summary>
    private void TakeUdpData(TunnelFrameHeader header, ReadOnlySpan<byte> payload, int source, int offset, PacketBatch batch)
    {
        if (_gather is null)
        {
            AddData(header, payload, batch, offloadAgreed: false);
            return;
        }

        _gatheredWireBytes += header.Size + payload.Length;
        if ((header.Flags & (TunnelFrameFlags.VnetHeader | TunnelFrameFlags.Compressed)) != 0)
        {
            // Offload frames are not sent over UDP, and compression was agreed off in the hello.
            Counters.AddDropped(TunnelDropReason.Malformed);
            return;
        }

        if (_gather.IsFull)
        {
            Writer.WriteGathered(_gather, _udpSources!, CancellationToken.None);
        }

        if (!_gather.Add(source, payload, offset, (header.Flags & TunnelFrameFlags.PartialChecksum) != 0))
        {
            Counters.AddDropped(TunnelDropReason.Malformed);
        }
    }

    /// <summary>The server role, on a thread of its own: receives wait in <c>poll()</c>, and the socket never meets .NET's asynchronous engine.</summary>
    private bool ServeUdp(IPEndPoint listen, CancellationToken cancellationToken)
    {
        using var socket = Bind(listen, SocketType.Dgram, ProtocolType.Udp);
        Log($"listening on udp {socket.LocalEndPoint}");
        TuneUdpSocket(socket);
        var buffer = NewUdpReceiveBuffer();
        var from = new SocketAddress(socket.AddressFamily);
        using var batch = new PacketBatch(UdpBatchSize, UdpReceiveSlotSize);
        try
        {
            var drained = false;
            while (true)
            {
                var received = WaitForDatagram(socket, buffer, from, cancellationToken, pollFirst: drained);
                HandleServerDatagram(socket, buffer, received, from, batch, 0);
                drained = false;
                for (var source = 1; HasRoomForReceive(batch, source); source++)
                {
                    var target = ReceiveBufferFor(buffer, source);
                    received = TryReceiveDatagram(socket, target, from);
                    if (received == NothingQueued)
                    {
                        drained = true;
                        break;
                    }

                    HandleServerDatagram(socket, target, received, from, batch, source);
                }

                FlushUdpRound(batch, cancellationToken);
            }
        }
        finally
        {
            CountGatheredWireBytes();
            if (_udpPeer is not null)
            {
                Unpublish(_udpPeer);
            }
        }
    }

    private async Task ConnectUdpAsync(CancellationToken cancellationToken)
    {
        var backoff = new ReconnectBackoff(Options.MinBackoff, Options.MaxBackoff, Options.Seed);
        var target = $"{Options.Connect!.Host}:{Options.Connect.Port}";
        var buffer = NewUdpReceiveBuffer();
        using var batch = new PacketBatch(UdpBatchSize, UdpReceiveSlotSize);
        while (true)
        {
            UdpPeerLink? link = null;
            Socket? socket = null;
            try
            {
                var remote = await ResolveAsync(cancellationToken).ConfigureAwait(false);
                socket = NewSocket(remote.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
                TuneUdpSocket(socket);
                socket.Connect(remote);
                var connected = socket;
                var peerHello = await OnOwnThread(() => UdpHandshake(connected, buffer, cancellationToken)).ConfigureAwait(false);
                link = new UdpPeerLink(socket, null, this, remote.ToString(), Hello.AgreesOnOffload(peerHello));
                Publish(link);
                backoff.Reset();
                _peerUnreachable = false;
                using var linkStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var keepalive = UdpKeepaliveAsync(socket, linkStop.Token);
                var reason = await OnOwnThread(() => UdpClientReceiveLoop(connected, buffer, batch, cancellationToken)).ConfigureAwait(false);
                await linkStop.CancelAsync().ConfigureAwait(false);
                await keepalive.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                Log($"peer {link.Description} lost: {reason}");
            }
            catch (TunnelProtocolException ex)
            {
                Log($"peer {target} dropped: {ex.Message}");
            }
            catch (Exception ex) when (ex is SocketException or SystemCallException)
            {
                Log($"connecting to {target} failed: {ex.Message}");
            }
            finally
            {
                CountGatheredWireBytes();
                if (link is not null)
                {
                    Unpublish(link);
                    link.Close();
                }

                socket?.Dispose();
            }

            batch.Clear();
            _gather?.Clear();
            await backoff.WaitAsync(Time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Client: repeats the hello every <see cref="TunnelOptions.KeepaliveInterval"/>. A server that
    /// restarted (and so dropped this client's data as from an unknown peer) takes the client
    /// back on the next hello; one that still knows it just answers.
    /// </summary>
    private async Task UdpKeepaliveAsync(Socket socket, CancellationToken cancellationToken)
    {
        if (Options.KeepaliveInterval <= TimeSpan.Zero)
        {
            return;
        }

        var frame = new byte[TunnelFrame.HeaderSize + TunnelHello.Size];
        TunnelFrame.WriteHello(frame, TunnelFrameType.Hello, Hello);
        while (true)
        {
            await Task.Delay(Options.KeepaliveInterval, Time, cancellationToken).ConfigureAwait(false);
            TrySend(socket, frame, null);
        }
    }

    /// <summary>Client: sends the hello until the server answers; returns the server's hello.</summary>
    private TunnelHello UdpHandshake(Socket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        var frame = new byte[TunnelFrame.HeaderSize + TunnelHello.Size];
        TunnelFrame.WriteHello(frame, TunnelFrameType.Hello, Hello);
        socket.Send(frame, SocketFlags.None);
        var deadline = Environment.TickCount64 + (long)Options.HandshakeTimeout.TotalMilliseconds;
        while (true)
        {
            var received = WaitForDatagram(socket, buffer, null, cancellationToken, deadline);
            if (received == TimedOut)
            {
                throw new TunnelProtocolException($"no hello reply within {Options.HandshakeTimeout.TotalSeconds:0.###} s");
            }

            var mismatch = TakeUdpHello(buffer.AsSpan(0, Math.Max(0, received)), out var accepted, out var peer);
            if (accepted)
            {
                return peer;
            }

            if (mismatch is not null)
            {
                TunnelFrame.WriteHello(frame, TunnelFrameType.HelloReject, Hello);
                TrySend(socket, frame, null);
                throw new TunnelMismatchException(mismatch);
            }
        }
    }

    /// <summary>Client handshake step: returns a mismatch to report, or sets <paramref name="accepted"/>; other datagrams are ignored.</summary>
    private string? TakeUdpHello(ReadOnlySpan<byte> datagram, out bool accepted, out TunnelHello peer)
    {
        accepted = false;
        peer = default;
        if (!TryTakeFrame(ref datagram, out var header, out var payload))
        {
            return null;
        }

        if (header.Type is TunnelFrameType.Hello or TunnelFrameType.HelloReject)
        {
            if (!TunnelHello.TryDecode(payload, out peer))
            {
                Counters.AddDropped(TunnelDropReason.Malformed);
                return null;
            }

            var mismatch = Hello.DescribeMismatch(peer);
            if (header.Type == TunnelFrameType.HelloReject)
            {
                throw new TunnelMismatchException(mismatch ?? "the peer rejected this end's hello");
            }

            accepted = mismatch is null;
            return mismatch;
        }

        return null;
    }

    private string UdpClientReceiveLoop(Socket socket, byte[] buffer, PacketBatch batch, CancellationToken cancellationToken)
    {
        try
        {
            var drained = false;
            while (true)
            {
                var received = WaitForDatagram(socket, buffer, null, cancellationToken, pollFirst: drained, established: true);
                HandleClientDatagram(buffer, received, batch, 0);
                drained = false;
                for (var source = 1; HasRoomForReceive(batch, source); source++)
                {
                    var target = ReceiveBufferFor(buffer, source);
                    received = TryReceiveDatagram(socket, target, null, established: true);
                    if (received == NothingQueued)
                    {
                        drained = true;
                        break;
                    }

                    HandleClientDatagram(target, received, batch, source);
                }

                FlushUdpRound(batch, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is SocketException or SystemCallException)
        {
            return ex.Message;
        }
        catch (ObjectDisposedException)
        {
            return "closed";
        }
    }

    private void HandleClientDatagram(byte[] buffer, int received, PacketBatch batch, int source)
    {
        ReadOnlySpan<byte> rest = received < 0 ? default : buffer.AsSpan(0, received);
        var length = rest.Length;
        while (TryTakeFrame(ref rest, out var header, out var payload))
        {
            switch (header.Type)
            {
                case TunnelFrameType.Data:
                    TakeUdpData(header, payload, source, length - rest.Length - payload.Length, batch);
                    break;
                case TunnelFrameType.HelloReject when TunnelHello.TryDecode(payload, out var peer):
                    throw new TunnelMismatchException(Hello.DescribeMismatch(peer) ?? "the peer rejected this end's hello");
                default:
                    // Repeated hello replies (our hello was resent) carry nothing new.
                    break;
            }
        }
    }

    private void HandleServerDatagram(Socket socket, byte[] buffer, int received, SocketAddress from, PacketBatch batch, int source)
    {
        ReadOnlySpan<byte> rest = received < 0 ? default : buffer.AsSpan(0, received);
        var length = rest.Length;
        while (TryTakeFrame(ref rest, out var header, out var payload))
        {
            HandleServerFrame(socket, header, payload, from, batch, source, length - rest.Length - payload.Length);
        }
    }

    private void HandleServerFrame(Socket socket, TunnelFrameHeader header, ReadOnlySpan<byte> payload, SocketAddress from, PacketBatch batch, int source, int offset)
    {
        var current = _udpPeer;
        switch (header.Type)
        {
            case TunnelFrameType.Data:
                if (current is not null && current.Peer!.Equals(from))
                {
                    TakeUdpData(header, payload, source, offset, batch);
                }
                else
                {
                    Counters.AddDropped(TunnelDropReason.UnknownPeer);
                }

                break;
            case TunnelFrameType.Hello or TunnelFrameType.HelloReject:
                if (!TunnelHello.TryDecode(payload, out var peer))
                {
                    Counters.AddDropped(TunnelDropReason.Malformed);
                    Log($"datagram from {UdpPeerLink.Describe(from)} dropped: not a tunnel peer (hello with the wrong magic or length)");
                    return;
                }

                var mismatch = Hello.DescribeMismatch(peer);
                if (header.Type == TunnelFrameType.HelloReject)
                {
                    throw new TunnelMismatchException(mismatch ?? "the peer rejected this end's hello");
                }

                Span<byte> frame = stackalloc byte[TunnelFrame.HeaderSize + TunnelHello.Size];
                TunnelFrame.WriteHello(frame, mismatch is null ? TunnelFrameType.Hello : TunnelFrameType.HelloReject, Hello);
                TrySend(socket, frame, from);
                if (mismatch is not null)
                {
                    throw new TunnelMismatchException(mismatch);
                }

                var partialChecksums = Hello.AgreesOnOffload(peer);
                if (current is null || !current.Peer!.Equals(from) || current.PartialChecksums != partialChecksums)
                {
                    var address = UdpPeerLink.Copy(from);
                    var link = new UdpPeerLink(socket, address, this, UdpPeerLink.Describe(address), partialChecksums);
                    _udpPeer = link;
                    Publish(link);
                }

                break;
        }
    }

    /// <summary>
    /// Takes the next frame from a received buffer: one datagram, or with UDP GRO several
    /// datagrams of one sender back to back, each one frame. Anything that does not parse drops
    /// (and counts) the rest of the buffer.
    /// </summary>
    private bool TryTakeFrame(ref ReadOnlySpan<byte> rest, out TunnelFrameHeader header, out ReadOnlySpan<byte> payload)
    {
        payload = default;
        if (rest.IsEmpty)
        {
            header = default;
            return false;
        }

        var reason = TunnelDropReason.Malformed;
        if (TunnelFrame.TryReadHeader(rest, out header) && header.IsKnown && (header.Flags & TunnelFrameFlags.LongLength) == 0)
        {
            if (header.Length > Options.MaxPacketSize)
            {
                reason = TunnelDropReason.Oversize;
            }
            else if (header.FrameLength <= rest.Length)
            {
                payload = rest.Slice(header.Size, header.Length);
                rest = rest[header.FrameLength..];
                return true;
            }
        }

        Counters.AddDropped(reason);
        rest = default;
        return false;
    }

    /// <summary>
    /// Turns on UDP GRO and a big receive buffer, where the kernel allows (best effort: the tunnel
    /// works without). The receive buffer matters most: with the default ~200 KiB a burst of GSO
    /// sends overflows it, a whole GRO batch is lost at a time and TCP inside backs off hard.
    /// </summary>
    internal static void TuneUdpSocket(Socket socket)
    {
        Span<byte> value = stackalloc byte[sizeof(int)];
        TrySetOption(socket, SolUdp, UdpGro, 1, value);
        if (!TrySetOption(socket, SolSocket, SoReceiveBufferForce, UdpSocketBufferSize, value))
        {
            TrySetOption(socket, SolSocket, SoReceiveBuffer, UdpSocketBufferSize, value);
        }

        // The send buffer stays at the default: a bigger one measured no faster (the sender waits
        // for room either way), and waits for it change how often the runtime allocates.
    }

    internal static bool TrySetOption(Socket socket, int level, int name, int number, Span<byte> value)
    {
        BitConverter.TryWriteBytes(value, number);
        try
        {
            socket.SetRawSocketOption(level, name, value);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static void TrySend(Socket socket, ReadOnlySpan<byte> frame, SocketAddress? to)
    {
        try
        {
            if (to is null)
            {
                socket.Send(frame, SocketFlags.None);
            }
            else
            {
                socket.SendTo(frame, SocketFlags.None, to);
            }
        }
        catch (SocketException)
        {
            // Best effort: the peer learns of the mismatch from its own check as well.
        }
    }

    /// <summary>
    /// Receives one datagram as <see cref="TryReceiveDatagram"/> does, waiting in <c>poll()</c> (in
    /// slices, so cancellation is seen) only when none is queued, until <paramref name="deadline"/>
    /// (<see cref="Environment.TickCount64"/>) passes; <see cref="TimedOut"/> then.
    /// <paramref name="pollFirst"/>: the caller's last receive found the queue empty, so this
    /// waits before it tries (instead of a second receive that finds nothing). For
    /// <paramref name="established"/> see <see cref="TryReceiveDatagram"/>.
    /// </summary>
    private int WaitForDatagram(Socket socket, byte[] buffer, SocketAddress? from, CancellationToken cancellationToken, long deadline = long.MaxValue, bool pollFirst = false, bool established = false)
    {
        var tryFirst = !pollFirst;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var received = tryFirst ? TryReceiveDatagram(socket, buffer, from, established) : NothingQueued;
            tryFirst = true;
            if (received != NothingQueued)
            {
                return received;
            }

            if (!DescriptorPoll.Wait(socket.SafeHandle, Libc.POLLIN, (int)Math.Clamp(deadline - Environment.TickCount64, 0, UdpWaitSliceMilliseconds)))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (Environment.TickCount64 >= deadline)
                {
                    return TimedOut;
                }
            }
        }
    }

    /// <summary>
    /// Receives one datagram without waiting (<c>recvfrom</c> with <c>MSG_DONTWAIT</c>: no
    /// <c>poll()</c> or <c>FIONREAD</c> in front of a receive that has data): its length,
    /// <see cref="NothingQueued"/> when none is queued, or -1 for a datagram too big for the buffer
    /// (counted as oversize). <paramref name="from"/> (server) gets the sender's address.
    /// <paramref name="established"/> (the client's socket after the hello): an ICMP port
    /// unreachable (ECONNREFUSED) says the server is down or restarting, not that the link is
    /// gone; it is logged once and the link kept, and the next keepalive brings a restarted
    /// server back on the same socket (a forged ICMP message cannot tear the link down either).
    /// Before the hello it fails the attempt, with the kernel's clear message.
    /// </summary>
    private unsafe int TryReceiveDatagram(Socket socket, byte[] buffer, SocketAddress? from, bool established = false)
    {
        var handle = socket.SafeHandle;
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            var fd = (int)handle.DangerousGetHandle();
            var name = from is null ? default : from.Buffer.Span;
            fixed (byte* data = buffer)
            fixed (byte* address = name)
            {
                while (true)
                {
                    var addressLength = (uint)name.Length;
                    var received = Libc.Recvfrom(fd, data, (nuint)buffer.Length, Libc.MSG_DONTWAIT | Libc.MSG_TRUNC, from is null ? null : address, from is null ? null : &addressLength);
                    if (received >= 0)
                    {
                        if (from is not null)
                        {
                            from.Size = (int)Math.Min(addressLength, (uint)name.Length);
                        }

                        if (established && _peerUnreachable)
                        {
                            _peerUnreachable = false;
                            Log($"peer {Volatile.Read(ref _link)?.Description}: answering again");
                        }

                        if (received > buffer.Length)
                        {
                            Counters.AddDropped(TunnelDropReason.Oversize);
                            return -1;
                        }

                        return (int)received;
                    }

                    var errno = Syscall.LastErrno;
                    if (errno == Errno.EAGAIN)
                    {
                        return NothingQueued;
                    }

                    if (errno == Errno.ECONNREFUSED && established)
                    {
                        // Reported once and cleared: receive again.
                        if (!_peerUnreachable)
                        {
                            _peerUnreachable = true;
                            Log($"peer {Volatile.Read(ref _link)?.Description}: port unreachable (ICMP): the server is down or restarting; keeping the link, a keepalive brings it back");
                        }

                        continue;
                    }

                    if (errno != Errno.EINTR)
                    {
                        throw new SystemCallException("receive from the peer", errno);
                    }
                }
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }
}
