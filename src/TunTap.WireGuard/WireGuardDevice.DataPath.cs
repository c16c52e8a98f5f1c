using System.Net;
using System.Net.Sockets;
using TunTap.Buffers;
using TunTap.Devices;
using TunTap.WireGuard.Messages;

namespace TunTap.WireGuard;

/// <content>
/// The two data-path loops. Outgoing: a batch of packets is read from the TUN device; TCP super
/// packets (virtio-net header with GSO) are cut into MTU-sized segments in an arena, each packet is
/// encrypted in place with its counter claimed in order, and the whole batch leaves in one
/// <see cref="IUdpTransport.SendBatchAsync"/>. Incoming: a batch of datagrams is received,
/// decrypted in place, and the inner packets are written with TCP segments merged into super
/// packets when the device takes them.
/// </content>
public sealed partial class WireGuardDevice
{
    /// <summary>Free bytes before each segment in the arena: the 16-byte header, and behind the previous segment its padding (up to 15) and tag (16).</summary>
    private const int SegmentGap = 48;

    /// <summary>The largest packet a virtio-net-header device hands over.</summary>
    private const int MaxSuperPacket = 65_535;

    /// <summary>Super packets per TUN read.</summary>
    private const int SuperPacketBatch = 8;

    /// <summary>Datagrams per send batch.</summary>
    private const int SendBatchCapacity = 512;

    /// <summary>Arena for segmenting one read batch of super packets.</summary>
    private const int ArenaSize = 1 << 20;

    /// <summary>Datagrams per receive batch.</summary>
    private const int ReceiveBatchCapacity = 128;

    /// <summary>Longest blocking wait of a loop before it looks at its cancellation token again.</summary>
    private const int WaitSliceMilliseconds = 100;

    /// <summary>Super packets per coalesced TUN write.</summary>
    private const int CoalescedBatchCapacity = 16;

    private async Task RoutineReadFromTunAsync(CancellationToken cancellationToken)
    {
        // Each packet sits 16 bytes into its slot: room for the message header written in place.
        var vnet = _vnet;
        var headroom = vnet ? HeaderRoom - VirtioNetHeader.Size : HeaderRoom;
        var slotSize = vnet ? HeaderRoom + MaxSuperPacket + SegmentGap : _bufferSize;
        using var batch = new PacketBatch(vnet ? SuperPacketBatch : _options.BatchSize, slotSize, headroom, PinnedBufferPool.Instance);
        var outgoing = new OutgoingBatch(SendBatchCapacity, vnet ? ArenaSize : 0);
        var largest = _bufferSize - HeaderRoom - TransportDataMessage.TagSize;
        var descriptor = (_tun as TunDevice)?.Queues[0].FileDescriptor;
        while (!cancellationToken.IsCancellationRequested)
        {
            int count;
            try
            {
                if (descriptor is not null && !TunTap.Interop.DescriptorPoll.Wait(descriptor, TunTap.Interop.Libc.POLLIN, WaitSliceMilliseconds))
                {
                    continue;
                }

                count = await _tun.ReadBatchAsync(batch, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or System.Threading.Channels.ChannelClosedException)
            {
                return;
            }

            var now = _time.GetTimestamp();
            for (var i = 0; i < count; i++)
            {
                var array = batch.GetArray(i);
                var length = batch.GetLength(i);
                if (!vnet)
                {
                    var peer = length <= largest ? RouteOutgoing(batch[i]) : null;
                    if (peer is null)
                    {
                        Counters.DropNoRoute();
                        continue;
                    }

                    await QueueAsync(outgoing, peer, array, 0, length, now, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                if (!VirtioNetHeader.TryCreate(batch[i], out var header))
                {
                    Counters.DropInvalid();
                    continue;
                }

                length -= VirtioNetHeader.Size;
                var body = array.AsSpan(HeaderRoom, length);
                var target = RouteOutgoing(body);
                if (target is null)
                {
                    Counters.DropNoRoute();
                    continue;
                }

                if (header.GsoType == VirtioGsoType.None)
                {
                    if (length > largest || !GsoSegmenter.TryCompleteChecksum(body, header))
                    {
                        Counters.DropInvalid();
                        continue;
                    }

                    await QueueAsync(outgoing, target, array, 0, length, now, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                await QueueSuperPacketAsync(outgoing, target, array, length, header, largest, now, cancellationToken).ConfigureAwait(false);
            }

            await SendOutgoingAsync(outgoing, cancellationToken).ConfigureAwait(false);
            outgoing.ArenaUsed = 0;
        }
    }

    /// <summary>Cuts the super packet at <c>array[16..16+length]</c> into the arena and queues each segment.</summary>
    private async ValueTask QueueSuperPacketAsync(OutgoingBatch outgoing, WireGuardPeer peer, byte[] array, int length, VirtioNetHeader header, int largest, long now, CancellationToken cancellationToken)
    {
        var needed = GsoSegmenter.SegmentedLength(array.AsSpan(HeaderRoom, length), header, 0, SegmentGap);
        if (needed < 0 || needed + SegmentGap > outgoing.Arena.Length)
        {
            Counters.DropInvalid();
            return;
        }

        if (outgoing.ArenaUsed + needed + SegmentGap > outgoing.Arena.Length)
        {
            // Everything queued from the arena leaves first; then it can be reused from the start.
            await SendOutgoingAsync(outgoing, cancellationToken).ConfigureAwait(false);
            outgoing.ArenaUsed = 0;
        }

        var start = outgoing.ArenaUsed;
        if (!GsoSegmenter.TrySegment(array.AsSpan(HeaderRoom, length), header, 0, outgoing.Arena.AsSpan(start), SegmentGap, out var segments))
        {
            Counters.DropInvalid();
            return;
        }

        // The tail room behind the last segment (its padding and tag) is reserved too.
        outgoing.ArenaUsed = start + segments.TotalLength + SegmentGap;
        for (var s = 0; s < segments.Count; s++)
        {
            var segmentLength = segments.LengthOf(s);
            if (segmentLength > largest)
            {
                Counters.DropInvalid();
                continue;
            }

            await QueueAsync(outgoing, peer, outgoing.Arena, start + segments.OffsetOf(s) - HeaderRoom, segmentLength, now, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Encrypts the packet at <c>buffer[offset+16..]</c> in place (its header goes into the 16 bytes
    /// in front) and adds it to the batch; without usable keys it is staged and a handshake started.
    /// <paramref name="now"/> is the clock when the TUN batch was read (key ages are checked against it).
    /// </summary>
    private async ValueTask QueueAsync(OutgoingBatch outgoing, WireGuardPeer peer, byte[] buffer, int offset, int length, long now, CancellationToken cancellationToken)
    {
        if (!outgoing.CanAdd(peer))
        {
            await SendOutgoingAsync(outgoing, cancellationToken).ConfigureAwait(false);
        }

        var datagram = PrepareSeal(peer, buffer.AsSpan(offset), length, now, out var endpoint, out var needsRekey, out var keypair, out var counter);
        if (datagram < 0)
        {
            BeginHandshake(peer, isRetry: false);

            // Stage first, then flush: a handshake that completed in between already flushed the
            // queue, and then its keys are here for this packet.
            Stage(peer, buffer.AsSpan(offset + HeaderRoom, length));
            await FlushStagedAsync(peer, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (needsRekey)
        {
            BeginHandshake(peer, isRetry: false);
        }

        outgoing.Add(peer, buffer, offset, datagram, endpoint!, length > 0, keypair!, counter);
    }

    /// <summary>Sends the batch's datagrams, then tells each peer's counters and timers once.</summary>
    private async ValueTask SendOutgoingAsync(OutgoingBatch outgoing, CancellationToken cancellationToken)
    {
        var count = outgoing.Datagrams.Count;
        if (count == 0)
        {
            outgoing.Clear();
            return;
        }

        _sealer.Encrypt(outgoing);
        int sent;
        try
        {
            sent = await Volatile.Read(ref _udp).SendBatchAsync(outgoing.Datagrams, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException || (e is ObjectDisposedException && Volatile.Read(ref _disposed) == 0))
        {
            // A transport replaced under a send (listen port change) drops that batch.
            sent = 0;
        }

        Counters.DataSent(sent);
        if (sent < count)
        {
            Counters.DropOther(count - sent);
        }

        for (var p = 0; p < outgoing.PeerCount; p++)
        {
            var peer = outgoing.GetPeer(p, out var bytes, out var isData);
            peer.AddSent(bytes);
            peer.Timers.OnAnyAuthenticatedPacketSent();
            peer.Timers.OnAnyAuthenticatedPacketTraversal();
            if (isData)
            {
                peer.Timers.OnDataSent();
            }
        }

        outgoing.Clear();
    }

    private async Task RoutineReceiveIncomingAsync(CancellationToken cancellationToken)
    {
        // Datagrams land at 0; after decryption the inner packet starts at 16, its virtio-net header
        // (when the device has them) goes over the consumed message header, at 6.
        var vnet = _vnet;
        var udp = Volatile.Read(ref _udp);
        using var batch = new UdpReceiveBatch(ReceiveBatchCapacity, _bufferSize, 0, vnet ? HeaderRoom - VirtioNetHeader.Size : HeaderRoom, udp);
        using var spare = new PacketBatch(vnet ? CoalescedBatchCapacity : ReceiveBatchCapacity, vnet ? VirtioNetHeader.Size + MaxSuperPacket : _bufferSize);
        var coalescer = vnet ? new TcpCoalescer(DeviceMode.Tun, CoalescedBatchCapacity) : null;
        var inner = new int[ReceiveBatchCapacity];
        var tally = new IncomingTally(Counters);
        var socket = udp as UdpSocketTransport;
        while (!cancellationToken.IsCancellationRequested)
        {
            int count;
            try
            {
                if (socket is null)
                {
                    count = await udp.ReceiveBatchAsync(batch, cancellationToken).ConfigureAwait(false);
                }
                else if ((count = socket.TryReceiveBatch(batch)) == 0)
                {
                    socket.WaitReadable(WaitSliceMilliseconds);
                    continue;
                }
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                // ICMP errors surface as receive failures on Linux (e.g. port unreachable): keep going.
                continue;
            }

            try
            {
                tally.Now = _time.GetTimestamp();
                ResetReceiveLookups();
                try
                {
                    for (var i = 0; i < count; i++)
                    {
                        inner[i] = await ProcessDatagramAsync(batch, i, tally, cancellationToken).ConfigureAwait(false);
                    }
                }
                finally
                {
                    tally.Flush();
                }

                await WriteReceivedAsync(batch.Packets, inner, count, spare, coalescer, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (Exception e) when (e is SocketException or IOException or System.Security.Cryptography.CryptographicException)
            {
                // One bad datagram or one failed write must not stop the interface.
                Counters.DropOther();
            }
        }
    }

    /// <summary>
    /// Handles datagram <paramref name="index"/>; returns the length of the inner packet to write (0:
    /// nothing). Transport data is tallied; anything else first reports the tally and forgets the
    /// batch's lookups, so handshakes see the same order of events as without batching.
    /// </summary>
    private ValueTask<int> ProcessDatagramAsync(UdpReceiveBatch batch, int index, IncomingTally tally, CancellationToken cancellationToken)
    {
        var buffer = batch.Packets.GetArray(index);
        var length = batch.GetDatagramLength(index);
        if (MessageHeader.ReadType(buffer.AsSpan(0, length)) == MessageType.TransportData)
        {
            int inner;
            WireGuardPeer? confirmedPeer;
            try
            {
                (inner, confirmedPeer) = OpenData(buffer.AsSpan(0, length), batch.GetRemote(index), tally);
            }
            catch (System.Security.Cryptography.CryptographicException)
            {
                Counters.DropOther();
                return new ValueTask<int>(0);
            }

            if (confirmedPeer is null)
            {
                return new ValueTask<int>(inner);
            }

            tally.Flush();
            return FlushStagedThenAsync(confirmedPeer, inner, cancellationToken);
        }

        tally.Flush();
        ResetReceiveLookups();
        return ProcessHandshakeDatagramAsync(buffer, length, batch.GetRemote(index), cancellationToken);
    }

    private async ValueTask<int> FlushStagedThenAsync(WireGuardPeer confirmedPeer, int inner, CancellationToken cancellationToken)
    {
        try
        {
            await FlushStagedAsync(confirmedPeer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or IOException or System.Security.Cryptography.CryptographicException)
        {
            Counters.DropOther();
        }

        return inner;
    }

    /// <summary>Handles a datagram that is not transport data (handshake messages, cookie replies, junk); returns 0.</summary>
    private async ValueTask<int> ProcessHandshakeDatagramAsync(byte[] buffer, int length, SocketAddress remote, CancellationToken cancellationToken)
    {
        try
        {
            switch (MessageHeader.ReadType(buffer.AsSpan(0, length)))
            {
                case MessageType.HandshakeInitiation:
                    await HandleInitiationAsync(buffer, length, remote, cancellationToken).ConfigureAwait(false);
                    break;
                case MessageType.HandshakeResponse:
                    await HandleResponseAsync(buffer, length, remote, cancellationToken).ConfigureAwait(false);
                    break;
                case MessageType.CookieReply:
                    HandleCookieReply(buffer.AsSpan(0, length));
                    break;
                default:
                    Counters.DropInvalid();
                    break;
            }
        }
        catch (Exception e) when (e is SocketException or IOException or System.Security.Cryptography.CryptographicException)
        {
            Counters.DropOther();
        }

        return 0;
    }

    /// <summary>Writes the decrypted packets (<paramref name="inner"/>: their lengths, 0 for none) in order.</summary>
    private async ValueTask WriteReceivedAsync(PacketBatch packets, int[] inner, int count, PacketBatch spare, TcpCoalescer? coalescer, CancellationToken cancellationToken)
    {
        var all = true;
        for (var i = 0; i < count; i++)
        {
            if (inner[i] == 0)
            {
                all = false;
                continue;
            }

            if (coalescer is not null)
            {
                VirtioNetHeader.None.Write(packets.GetArray(i).AsSpan(packets.Headroom));
                packets.SetLength(i, VirtioNetHeader.Size + inner[i]);
            }
            else
            {
                packets.SetLength(i, inner[i]);
            }
        }

        if (coalescer is null)
        {
            if (all)
            {
                packets.Count = count;
                await _tun.WriteBatchAsync(packets, cancellationToken).ConfigureAwait(false);
                return;
            }

            spare.Clear();
            for (var i = 0; i < count; i++)
            {
                if (inner[i] > 0)
                {
                    spare.TryAdd(packets[i]);
                }
            }

            if (spare.Count > 0)
            {
                await _tun.WriteBatchAsync(spare, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        // Runs of packets to write, each merged where TCP segments line up.
        var start = 0;
        while (start < count)
        {
            while (start < count && inner[start] == 0)
            {
                start++;
            }

            var end = start;
            while (end < count && inner[end] > 0)
            {
                end++;
            }

            packets.Count = end;
            var next = start;
            while (next < end)
            {
                next = coalescer.Coalesce(packets, next, spare);
                await _tun.WriteBatchAsync(spare, cancellationToken).ConfigureAwait(false);
            }

            start = end;
        }
    }
}
