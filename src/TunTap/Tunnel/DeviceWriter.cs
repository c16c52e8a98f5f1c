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
    private readonly SemaphoreSlim _lock = new(1, 1);

    public DeviceWriter(ITunDevice device, TunnelCounters counters, TunnelEndpoint endpoint)
    {
        _device = device;
        _counters = counters;
        _endpoint = endpoint;
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

    public void Dispose() => _lock.Dispose();
}
