using TunTap.Buffers;

namespace TunTap.Switching;

/// <summary>
/// A bounded queue of frames waiting to leave one port: a ring of preallocated buffers, so a full
/// queue drops (the caller counts it) instead of growing. Many producers, one consumer.
/// </summary>
internal sealed class EgressQueue : IDisposable
{
    private readonly byte[][] _slots;
    private readonly int[] _lengths;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _signal = new(0);
    private int _head;
    private int _count;
    private int _signaled;

    public EgressQueue(int capacity, int slotSize)
    {
        _slots = new byte[capacity][];
        for (var i = 0; i < capacity; i++)
        {
            _slots[i] = new byte[slotSize];
        }

        _lengths = new int[capacity];
    }

    /// <summary>Writes the frame as it leaves <paramref name="port"/> into the next free slot; false (nothing queued) when the queue is full.</summary>
    public bool TryEnqueue(LearningSwitch fabric, int port, ReadOnlySpan<byte> frame, ForwardingDecision decision)
    {
        lock (_gate)
        {
            if (_count == _slots.Length)
            {
                return false;
            }

            var slot = (_head + _count) % _slots.Length;
            var length = fabric.WriteEgressFrame(port, frame, decision, _slots[slot]);
            if (length < 0)
            {
                return false;
            }

            _lengths[slot] = length;
            _count++;
        }

        if (Interlocked.Exchange(ref _signaled, 1) == 0)
        {
            _signal.Release();
        }

        return true;
    }

    /// <summary>Queues <paramref name="frame"/> as it is (a mirrored copy as received); false when the queue is full or the frame does not fit a slot.</summary>
    public bool TryEnqueueCopy(ReadOnlySpan<byte> frame)
    {
        lock (_gate)
        {
            var slot = (_head + _count) % _slots.Length;
            if (_count == _slots.Length || frame.Length > _slots[slot].Length)
            {
                return false;
            }

            frame.CopyTo(_slots[slot]);
            _lengths[slot] = frame.Length;
            _count++;
        }

        if (Interlocked.Exchange(ref _signaled, 1) == 0)
        {
            _signal.Release();
        }

        return true;
    }

    /// <summary>Waits until something was queued since the last wait.</summary>
    public async Task WaitAsync(CancellationToken cancellationToken)
    {
        await _signal.WaitAsync(cancellationToken).ConfigureAwait(false);

        // Reset before draining: anything queued from now on signals again.
        Volatile.Write(ref _signaled, 0);
    }

    /// <summary>Moves up to a batch of frames into <paramref name="batch"/>; returns how many and their total bytes.</summary>
    public int DequeueInto(PacketBatch batch, out long bytes)
    {
        batch.Clear();
        bytes = 0;
        lock (_gate)
        {
            while (_count > 0 && batch.Count < batch.Capacity)
            {
                var length = _lengths[_head];
                if (!batch.TryAdd(_slots[_head].AsSpan(0, length)))
                {
                    break;
                }

                bytes += length;
                _head = (_head + 1) % _slots.Length;
                _count--;
            }
        }

        return batch.Count;
    }

    public void Dispose() => _signal.Dispose();
}
