using System.Threading.Channels;
using TunTap.Buffers;
using TunTap.Devices;

namespace TunTap.TestKit;

/// <summary>
/// An in-memory <see cref="ITunDevice"/>: the "kernel side" is two channels. <see cref="Inject"/>
/// queues a packet for <see cref="ReadBatchAsync"/> (as if the kernel sent it into the device);
/// packets passed to <see cref="WriteBatchAsync"/> appear in <see cref="Written"/>. Two devices made
/// by <see cref="CreatePair"/> are cross-connected: what one writes, the other reads.
/// </summary>
public sealed class ChannelTun : ITunDevice
{
    private readonly Lock _injectGate = new();
    private readonly Channel<byte[]> _toRead;
    private readonly Channel<byte[]> _written;
    private long _writtenCount;

    /// <summary>A standalone device with its own channels.</summary>
    public ChannelTun(string name, DeviceMode mode)
        : this(name, mode, Channel.CreateUnbounded<byte[]>(), Channel.CreateUnbounded<byte[]>())
    {
    }

    private ChannelTun(string name, DeviceMode mode, Channel<byte[]> toRead, Channel<byte[]> written)
    {
        Name = name;
        Mode = mode;
        _toRead = toRead;
        _written = written;
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public DeviceMode Mode { get; }

    /// <summary>Packets the device's user wrote (for a pair: the peer's reads).</summary>
    public ChannelReader<byte[]> Written => _written.Reader;

    /// <summary>Total packets handed to <see cref="WriteBatchAsync"/>.</summary>
    public long WrittenPackets => Interlocked.Read(ref _writtenCount);

    /// <summary>Two devices where each one's writes are the other's reads.</summary>
    public static (ChannelTun A, ChannelTun B) CreatePair(DeviceMode mode, string nameA = "chan0", string nameB = "chan1")
    {
        var aToB = Channel.CreateUnbounded<byte[]>();
        var bToA = Channel.CreateUnbounded<byte[]>();
        return (new ChannelTun(nameA, mode, bToA, aToB), new ChannelTun(nameB, mode, aToB, bToA));
    }

    /// <summary>Queues a copy of <paramref name="packet"/> for the next read.</summary>
    public void Inject(ReadOnlySpan<byte> packet)
    {
        if (!_toRead.Writer.TryWrite(packet.ToArray()))
        {
            throw new InvalidOperationException($"{Name} is closed");
        }
    }

    /// <summary>
    /// Queues copies of <paramref name="packets"/> for reading all at once: a read that wakes for
    /// the first one also takes the others (up to its batch's capacity), as a device read does
    /// with what the kernel queued.
    /// </summary>
    public void InjectAll(IEnumerable<byte[]> packets)
    {
        ArgumentNullException.ThrowIfNull(packets);
        lock (_injectGate)
        {
            foreach (var packet in packets)
            {
                Inject(packet);
            }
        }
    }

    /// <summary>Waits (bounded by <paramref name="timeout"/>) for the next written packet.</summary>
    public async Task<byte[]> ReadWrittenAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            return await _written.Reader.ReadAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw new TimeoutException($"{Name}: no packet written within {timeout}");
        }
    }

    /// <inheritdoc/>
    public async ValueTask<int> ReadBatchAsync(PacketBatch batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        batch.Clear();
        var first = await _toRead.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        Add(batch, first);
        lock (_injectGate)
        {
            while (batch.Count < batch.Capacity && _toRead.Reader.TryRead(out var next))
            {
                Add(batch, next);
            }
        }

        return batch.Count;
    }

    /// <inheritdoc/>
    public ValueTask<int> WriteBatchAsync(PacketBatch batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        for (var i = 0; i < batch.Count; i++)
        {
            _written.Writer.TryWrite(batch[i].ToArray());
        }

        Interlocked.Add(ref _writtenCount, batch.Count);
        return ValueTask.FromResult(batch.Count);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        _toRead.Writer.TryComplete();
        return ValueTask.CompletedTask;
    }

    private static void Add(PacketBatch batch, byte[] packet)
    {
        // Like a real device read into a short buffer: the packet is cut to fit.
        var slot = batch.Count;
        var length = Math.Min(packet.Length, batch.MaxPacketSize);
        packet.AsSpan(0, length).CopyTo(batch.GetWritable(slot));
        batch.SetLength(slot, length);
        batch.Count = slot + 1;
    }
}
