using System.Runtime.CompilerServices;
using TunTap.Buffers;
using TunTap.Devices;

namespace TunTap.Tunnel;

/// <summary>Writes received batches to the device, one writer at a time (a replaced link may still be finishing), and counts them.</summary>
internal sealed class DeviceWriter : IDisposable
{
    private readonly ITunDevice _device;
    private readonly TunnelCounters _counters;
    private readonly TunnelEndpoint _endpoint;
    /// <summary>Super packets per coalesced write batch (1 MiB of slots).</summary>
    private const int CoalescedBatchSize = 16;

    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly TcpCoalescer? _coalescer;
    private readonly PacketBatch? _coalesced;

    public DeviceWriter(ITunDevice device, TunnelCounters counters, TunnelEndpoint endpoint)
    {
        _device = device;
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
    /// with a virtio-net header; otherwise the same as <see cref="FlushAsync"/>.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask FlushCoalescedAsync(PacketBatch batch, CancellationToken cancellationToken)
    {
        if (_coalescer is null || _coalesced is null || batch.Count == 0)
        {
            await FlushAsync(batch, cancellationToken).ConfigureAwait(false);
            return;
        }

        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
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

                _endpoint.Capture(_coalesced);
                var accepted = await _device.WriteBatchAsync(_coalesced, cancellationToken).ConfigureAwait(false);
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
        }
        finally
        {
            _lock.Release();
        }

        batch.Clear();
    }

    /// <summary>Writes the batch's packets (if any) and empties it.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask FlushAsync(PacketBatch batch, CancellationToken cancellationToken)
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
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            accepted = await _device.WriteBatchAsync(batch, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }

        _counters.AddRx(accepted, accepted == count ? bytes : bytes * accepted / count);
        if (accepted < count)
        {
            _counters.AddDropped(TunnelDropReason.DeviceRejected, count - accepted);
        }

        batch.Clear();
    }

    public void Dispose()
    {
        _lock.Dispose();
        _coalesced?.Dispose();
    }
}
