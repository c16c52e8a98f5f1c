using System.Net;

namespace TunTap.WireGuard;

/// <summary>
/// Datagrams to send in one go (<see cref="IUdpTransport.SendBatchAsync"/>), in order: each is a
/// slice of a caller's buffer and a destination. A transport may send runs of equal-sized datagrams
/// to one destination as one segmentation-offload send (see <see cref="UdpGsoRun"/>). The batch
/// holds references only; the buffers must stay untouched until the send completes.
/// </summary>
public sealed class UdpSendBatch
{
    private readonly byte[][] _arrays;
    private readonly int[] _offsets;
    private readonly int[] _lengths;
    private readonly SocketAddress[] _remotes;

    /// <summary>Creates an empty batch for up to <paramref name="capacity"/> datagrams.</summary>
    public UdpSendBatch(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _arrays = new byte[capacity][];
        _offsets = new int[capacity];
        _lengths = new int[capacity];
        _remotes = new SocketAddress[capacity];
    }

    /// <summary>How many datagrams the batch can hold.</summary>
    public int Capacity => _arrays.Length;

    /// <summary>How many datagrams it holds.</summary>
    public int Count { get; private set; }

    /// <summary>True when no more datagrams fit.</summary>
    public bool IsFull => Count == _arrays.Length;

    /// <summary>Appends the datagram <c>buffer[offset..offset+length]</c> for <paramref name="remote"/>.</summary>
    /// <exception cref="InvalidOperationException">The batch is full.</exception>
    public void Add(byte[] buffer, int offset, int length, SocketAddress remote)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        ArgumentNullException.ThrowIfNull(remote);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset + length, buffer.Length);
        if (Count == _arrays.Length)
        {
            throw new InvalidOperationException("the send batch is full");
        }

        _arrays[Count] = buffer;
        _offsets[Count] = offset;
        _lengths[Count] = length;
        _remotes[Count] = remote;
        Count++;
    }

    /// <summary>The buffer datagram <paramref name="index"/> lives in.</summary>
    public byte[] GetArray(int index) => _arrays[index];

    /// <summary>Where datagram <paramref name="index"/> starts in its buffer.</summary>
    public int GetOffset(int index) => _offsets[index];

    /// <summary>The length of datagram <paramref name="index"/>.</summary>
    public int GetLength(int index) => _lengths[index];

    /// <summary>Datagram <paramref name="index"/>.</summary>
    public ReadOnlyMemory<byte> GetDatagram(int index) => _arrays[index].AsMemory(_offsets[index], _lengths[index]);

    /// <summary>The destination of datagram <paramref name="index"/>.</summary>
    public SocketAddress GetRemote(int index) => _remotes[index];

    /// <summary>Empties the batch and drops its references.</summary>
    public void Clear()
    {
        Array.Clear(_arrays, 0, Count);
        Array.Clear(_remotes, 0, Count);
        Count = 0;
    }
}
