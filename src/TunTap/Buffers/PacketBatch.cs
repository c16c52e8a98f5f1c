using System.Buffers;

namespace TunTap.Buffers;

/// <summary>
/// A reusable set of packet buffers for batched I/O. Each slot is one buffer of
/// <see cref="BufferSize"/> bytes; a packet occupies <c>[Headroom, Headroom + length)</c> of it,
/// leaving room in front to prepend headers without copying. The buffers are rented once, at
/// construction, and returned by <see cref="Dispose"/>: steady-state I/O allocates nothing.
/// </summary>
public sealed class PacketBatch : IDisposable
{
    private readonly byte[][] _buffers;
    private readonly int[] _lengths;
    private readonly ArrayPool<byte> _pool;
    private bool _disposed;

    /// <summary>Rents <paramref name="capacity"/> buffers of <paramref name="bufferSize"/> bytes.</summary>
    /// <param name="capacity">Maximum packets per batch.</param>
    /// <param name="bufferSize">Bytes per buffer, headroom included.</param>
    /// <param name="headroom">Bytes kept free in front of every packet.</param>
    /// <param name="pool">The pool to rent from; <see cref="ArrayPool{T}.Shared"/> by default.</param>
    public PacketBatch(int capacity, int bufferSize, int headroom = 0, ArrayPool<byte>? pool = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(headroom);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(headroom, bufferSize);
        _pool = pool ?? ArrayPool<byte>.Shared;
        _buffers = new byte[capacity][];
        _lengths = new int[capacity];
        for (var i = 0; i < capacity; i++)
        {
            _buffers[i] = _pool.Rent(bufferSize);
        }

        BufferSize = bufferSize;
        Headroom = headroom;
    }

    /// <summary>How many packets the batch can hold.</summary>
    public int Capacity => _buffers.Length;

    /// <summary>Bytes per buffer, headroom included.</summary>
    public int BufferSize { get; }

    /// <summary>Bytes kept free in front of each packet.</summary>
    public int Headroom { get; }

    /// <summary>The largest packet a slot can hold.</summary>
    public int MaxPacketSize => BufferSize - Headroom;

    /// <summary>How many slots hold packets, from index 0.</summary>
    public int Count
    {
        get;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, Capacity);
            field = value;
        }
    }

    /// <summary>The packet in slot <paramref name="index"/>.</summary>
    public Span<byte> this[int index] => _buffers[index].AsSpan(Headroom, _lengths[index]);

    /// <summary>The packet in slot <paramref name="index"/> as memory (for async I/O).</summary>
    public Memory<byte> GetPacketMemory(int index) => _buffers[index].AsMemory(Headroom, _lengths[index]);

    /// <summary>The length of the packet in slot <paramref name="index"/>.</summary>
    public int GetLength(int index) => _lengths[index];

    /// <summary>Sets the length of the packet in slot <paramref name="index"/>.</summary>
    public void SetLength(int index, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, MaxPacketSize);
        _lengths[index] = length;
    }

    /// <summary>The space a packet may fill in slot <paramref name="index"/> (after the headroom).</summary>
    public Span<byte> GetWritable(int index) => _buffers[index].AsSpan(Headroom, MaxPacketSize);

    /// <summary>The whole buffer of slot <paramref name="index"/>, headroom included.</summary>
    public Span<byte> GetBuffer(int index) => _buffers[index].AsSpan(0, BufferSize);

    /// <summary>The whole buffer of slot <paramref name="index"/> as an array (for syscalls that pin it).</summary>
    public byte[] GetArray(int index) => _buffers[index];

    /// <summary>Copies <paramref name="packet"/> into the next free slot; false when the batch is full or the packet too big.</summary>
    public bool TryAdd(ReadOnlySpan<byte> packet)
    {
        if (Count >= Capacity || packet.Length > MaxPacketSize)
        {
            return false;
        }

        packet.CopyTo(_buffers[Count].AsSpan(Headroom));
        _lengths[Count] = packet.Length;
        Count++;
        return true;
    }

    /// <summary>Empties the batch (the buffers stay rented).</summary>
    public void Clear() => Count = 0;

    /// <summary>Returns the buffers to the pool. The batch must not be used afterwards.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        for (var i = 0; i < _buffers.Length; i++)
        {
            _pool.Return(_buffers[i]);
            _buffers[i] = [];
        }
    }
}
