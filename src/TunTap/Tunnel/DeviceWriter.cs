using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TunTap.Buffers;
using TunTap.Devices;
using TunTap.Interop;

namespace TunTap.Tunnel;

/// <summary>
/// Writes received packets to the device, one writer at a time (a replaced link may still be
/// finishing), and counts them. Writes are blocking calls, made from the receive loops' own
/// threads: a TUN/TAP queue's writes are system calls that wait in <c>poll()</c> when the kernel's
/// queue is full (they practically never do); any other device's asynchronous write is waited for.
/// </summary>
internal sealed class DeviceWriter : IDisposable
{
    private readonly ITunDevice _device;
    private readonly TunQueue? _queue;
    private readonly TunnelCounters _counters;
    private readonly TunnelEndpoint _endpoint;
    /// <summary>Super packets per coalesced write batch (1 MiB of slots).</summary>
    private const int CoalescedBatchSize = 16;

    private readonly Lock _lock = new();
    private readonly TcpCoalescer? _coalescer;
    private readonly PacketBatch? _coalesced;

    public DeviceWriter(ITunDevice device, TunnelCounters counters, TunnelEndpoint endpoint)
    {
        _device = device;
        _queue = TunnelEndpoint.QueueOf(device);
        _counters = counters;
        _endpoint = endpoint;
        if (endpoint.Options.VnetHeader)
        {
            _coalescer = new TcpCoalescer(endpoint.Options.Mode, CoalescedBatchSize);
            _coalesced = new PacketBatch(CoalescedBatchSize, endpoint.Options.DevicePacketSize);
        }
    }

    /// <summary>
    /// Writes the batch's packets (plain ones, each behind a blank virtio-net header) after merging
    /// consecutive TCP segments of a flow into super packets, and empties it. Only for a device
    /// with a virtio-net header; otherwise the same as <see cref="Flush"/>.
    /// </summary>
    public void FlushCoalesced(PacketBatch batch, CancellationToken cancellationToken)
    {
        if (_coalescer is null || _coalesced is null || batch.Count == 0)
        {
            Flush(batch, cancellationToken);
            return;
        }

        lock (_lock)
        {
            var next = 0;
            while (next < batch.Count)
            {
                next = _coalescer.Coalesce(batch, next, _coalesced);
                var count = _coalesced.Count;
                long bytes = 0;
                long packets = 0;
                var superPackets = 0;
                for (var i = 0; i < count; i++)
                {
                    bytes += _coalesced.GetLength(i) - VirtioNetHeader.Size;
                    var segments = _coalescer.SegmentsOf(i);
                    packets += segments;
                    superPackets += segments > 1 ? 1 : 0;
                }

                WriteMerged(_coalesced, packets, bytes, superPackets, cancellationToken);
            }
        }

        batch.Clear();
    }

    /// <summary>
    /// Writes the output packets of <paramref name="coalescer"/> (finished here), whose pieces lie
    /// in <paramref name="sources"/> (pinned arrays), and clears it. On a TUN/TAP queue each is one
    /// gather write straight from the receive buffers; otherwise (or while capturing) each is
    /// copied together into a slot first. Counts them as <see cref="FlushCoalesced"/> does.
    /// </summary>
    public unsafe void WriteGathered(TcpGatherCoalescer coalescer, byte[][] sources, CancellationToken cancellationToken)
    {
        var count = coalescer.Count;
        if (count == 0)
        {
            return;
        }

        coalescer.Finish();
        lock (_lock)
        {
            if (_queue is null || _endpoint.IsCapturing || _coalesced is null)
            {
                WriteGatheredCopies(coalescer, sources, cancellationToken);
            }
            else
            {
                var vectors = stackalloc IoVector[1 + TcpGatherCoalescer.MaxSegments];
                var headers = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(coalescer.HeaderBuffer));
                long packets = 0;
                long bytes = 0;
                var superPackets = 0;
                var rejected = 0;
                for (var i = 0; i < count; i++)
                {
                    vectors[0] = new IoVector { Base = headers + TcpGatherCoalescer.HeaderOffsetOf(i), Length = (nuint)coalescer.HeadersOf(i).Length };
                    var n = 1;
                    for (var piece = coalescer.FirstPieceOf(i); piece >= 0; piece = coalescer.NextPiece(piece))
                    {
                        var (source, offset, length) = coalescer.PieceAt(piece);
                        vectors[n++] = new IoVector { Base = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(sources[source])) + offset, Length = (nuint)length };
                    }

                    var segments = coalescer.SegmentsOf(i);
                    superPackets += segments > 1 ? 1 : 0;
                    if (_queue.WriteGather(vectors, n))
                    {
                        packets += segments;
                        bytes += coalescer.LengthOf(i) - VirtioNetHeader.Size;
                    }
                    else
                    {
                        rejected++;
                    }
                }

                _counters.AddRxOffload(superPackets);
                _counters.AddRx(packets, bytes);
                if (rejected > 0)
                {
                    _counters.AddDropped(TunnelDropReason.DeviceRejected, rejected);
                }
            }
        }

        coalescer.Clear();
    }

    /// <summary>The copying form of <see cref="WriteGathered"/>: a batch of slots at a time, captured and written as <see cref="FlushCoalesced"/> does.</summary>
    private void WriteGatheredCopies(TcpGatherCoalescer coalescer, byte[][] sources, CancellationToken cancellationToken)
    {
        var slots = _coalesced!;
        var next = 0;
        while (next < coalescer.Count)
        {
            slots.Clear();
            long bytes = 0;
            long packets = 0;
            var superPackets = 0;
            while (next < coalescer.Count && slots.Count < slots.Capacity)
            {
                var slot = slots.Count;
                slots.SetLength(slot, coalescer.CopyTo(next, sources, slots.GetWritable(slot)));
                slots.Count = slot + 1;
                var segments = coalescer.SegmentsOf(next);
                bytes += coalescer.LengthOf(next) - VirtioNetHeader.Size;
                packets += segments;
                superPackets += segments > 1 ? 1 : 0;
                next++;
            }

            WriteMerged(slots, packets, bytes, superPackets, cancellationToken);
        }

        slots.Clear();
    }

    /// <summary>
    /// Captures and writes merged packets (<paramref name="packets"/> received ones,
    /// <paramref name="bytes"/> without virtio-net headers, <paramref name="superPackets"/> of them
    /// merged from more than one) and counts them.
    /// </summary>
    private void WriteMerged(PacketBatch merged, long packets, long bytes, int superPackets, CancellationToken cancellationToken)
    {
        var count = merged.Count;
        _endpoint.Capture(merged);
        var accepted = WriteToDevice(merged, cancellationToken);
        _counters.AddRxOffload(superPackets);
        if (accepted == count)
        {
            _counters.AddRx(packets, bytes);
        }
        else
        {
            // Which ones failed is not known: count whole output packets.
            _counters.AddRx(accepted, bytes * accepted / count);
            _counters.AddDropped(TunnelDropReason.DeviceRejected, count - accepted);
        }
    }

    /// <summary>Writes the batch's packets (if any) and empties it.</summary>
    public void Flush(PacketBatch batch, CancellationToken cancellationToken)
    {
        var count = batch.Count;
        if (count == 0)
        {
            return;
        }

        long bytes = 0;
        for (var i = 0; i < count; i++)
        {
            bytes += batch.GetLength(i);
        }

        if (_endpoint.Options.VnetHeader)
        {
            bytes -= (long)count * VirtioNetHeader.Size;
            _counters.AddRxOffload(TunnelEndpoint.CountSuperPackets(batch));
        }

        _endpoint.Capture(batch);
        int accepted;
        lock (_lock)
        {
            accepted = WriteToDevice(batch, cancellationToken);
        }

        _counters.AddRx(accepted, accepted == count ? bytes : bytes * accepted / count);
        if (accepted < count)
        {
            _counters.AddDropped(TunnelDropReason.DeviceRejected, count - accepted);
        }

        batch.Clear();
    }

    /// <summary>
    /// Writes one packet that sits in a receive buffer (no batch slot, no copy): the device is a
    /// TUN/TAP queue with a virtio-net header and the packet starts with one. Counts it, as
    /// <see cref="Flush"/> would.
    /// </summary>
    public void WriteInPlace(ReadOnlySpan<byte> packet)
    {
        _endpoint.Capture(packet);
        bool accepted;
        lock (_lock)
        {
            accepted = _queue!.Write(packet);
        }

        if (!accepted)
        {
            _counters.AddDropped(TunnelDropReason.DeviceRejected);
            return;
        }

        var superPacket = packet.Length > VirtioNetHeader.Field.GsoType && packet[VirtioNetHeader.Field.GsoType] != (byte)VirtioGsoType.None;
        _counters.AddRxOffload(superPacket ? 1 : 0);
        _counters.AddRx(1, packet.Length - VirtioNetHeader.Size);
    }

    /// <summary>True when <see cref="WriteInPlace"/> can be used.</summary>
    public bool CanWriteInPlace => _queue is not null && _endpoint.Options.VnetHeader;

    public void Dispose() => _coalesced?.Dispose();

    private int WriteToDevice(PacketBatch batch, CancellationToken cancellationToken)
    {
        if (_queue is not null)
        {
            return _queue.WriteBatch(batch);
        }

        var pending = _device.WriteBatchAsync(batch, cancellationToken);
        return pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
    }
}
