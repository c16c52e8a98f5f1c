using System.Runtime.CompilerServices;
using TunTap.Buffers;
using TunTap.Devices;

namespace TunTap.TestKit;

/// <summary>
/// A TUN device for steady-state measurements: it produces copies of one packet on demand
/// (<see cref="Release"/>) and counts what is written to it, allocating nothing per packet.
/// </summary>
public sealed class SyntheticTun : ITunDevice
{
    private readonly byte[] _packet;
    private readonly int _maxPerBatch;
    private readonly Func<bool>? _mayProduce;
    private readonly SemaphoreSlim _available = new(0);
    private long _written;
    private int _budget;

    /// <summary>Creates the device.</summary>
    /// <param name="packet">The packet to produce; by default a 1200-byte IPv4-looking pattern.</param>
    /// <param name="maxPerBatch">At most this many packets per read (and never more than the batch holds).</param>
    /// <param name="mayProduce">
    /// Pacing, like a kernel that cannot queue without bound: reads wait (yielding) until it is true.
    /// </param>
    public SyntheticTun(byte[]? packet = null, int maxPerBatch = int.MaxValue, Func<bool>? mayProduce = null)
    {
        _packet = packet ?? DefaultPacket();
        _maxPerBatch = maxPerBatch;
        _mayProduce = mayProduce;
    }

    /// <inheritdoc/>
    public string Name => "synthetic0";

    /// <inheritdoc/>
    public DeviceMode Mode => DeviceMode.Tun;

    /// <summary>Packets written to the device so far.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Lets the device produce <paramref name="packets"/> more packets.</summary>
    public void Release(int packets)
    {
        Interlocked.Add(ref _budget, packets);
        _available.Release();
    }

    /// <inheritdoc/>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> ReadBatchAsync(PacketBatch batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        batch.Clear();
        while (Volatile.Read(ref _budget) == 0)
        {
            await _available.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        while (_mayProduce is not null && !_mayProduce())
        {
            cancellationToken.ThrowIfCancellationRequested();
            await Task.Yield();
        }

        var take = Math.Min(Math.Min(batch.Capacity, _maxPerBatch), Volatile.Read(ref _budget));
        Interlocked.Add(ref _budget, -take);
        for (var i = 0; i < take; i++)
        {
            _packet.CopyTo(batch.GetWritable(i));
            batch.SetLength(i, _packet.Length);
        }

        batch.Count = take;

        // Pace the producer a little so that socket buffers downstream do not overflow.
        await Task.Yield();
        return take;
    }

    /// <inheritdoc/>
    public ValueTask<int> WriteBatchAsync(PacketBatch batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        Interlocked.Add(ref _written, batch.Count);
        return ValueTask.FromResult(batch.Count);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        _available.Dispose();
        return ValueTask.CompletedTask;
    }

    private static byte[] DefaultPacket()
    {
        var packet = new byte[1200];
        for (var i = 0; i < packet.Length; i++)
        {
            packet[i] = (byte)(i % 31);
        }

        packet[0] = 0x45;
        return packet;
    }
}
