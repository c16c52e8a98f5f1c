using System.Net;
using TunTap.Buffers;

namespace TunTap.WireGuard;

/// <summary>
/// Slots that <see cref="IUdpTransport.ReceiveBatchAsync"/> fills with datagrams: datagram
/// <c>i</c> lands at <see cref="DatagramOffset"/> of <c>Packets.GetArray(i)</c>, its length in
/// <see cref="GetDatagramLength"/> and its sender in <see cref="GetRemote"/>. The same buffers form
/// <see cref="Packets"/>, whose headroom lies behind the datagram's start, so a receiver that
/// decrypts in place can hand the inner packets on as a <see cref="PacketBatch"/> without copying.
/// The buffers are pinned and rented once.
/// </summary>
public sealed class UdpReceiveBatch : IDisposable
{
    private readonly int[] _lengths;
    private readonly SocketAddress[] _remotes;

    /// <summary>Creates <paramref name="capacity"/> slots of <paramref name="slotSize"/> bytes.</summary>
    /// <param name="capacity">Datagrams per batch.</param>
    /// <param name="slotSize">Bytes per slot.</param>
    /// <param name="datagramOffset">Where in its slot a datagram starts.</param>
    /// <param name="headroom">The <see cref="PacketBatch.Headroom"/> of <see cref="Packets"/>.</param>
    /// <param name="transport">The transport whose addresses the batch holds (<see cref="IUdpTransport.CreateAddress"/>).</param>
    public UdpReceiveBatch(int capacity, int slotSize, int datagramOffset, int headroom, IUdpTransport transport)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentOutOfRangeException.ThrowIfNegative(datagramOffset);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(datagramOffset, slotSize);
        Packets = new PacketBatch(capacity, slotSize, headroom, PinnedBufferPool.Instance);
        DatagramOffset = datagramOffset;
        _lengths = new int[capacity];
        _remotes = new SocketAddress[capacity];
        for (var i = 0; i < capacity; i++)
        {
            _remotes[i] = transport.CreateAddress();
        }
    }

    /// <summary>The slots, as a packet batch.</summary>
    public PacketBatch Packets { get; }

    /// <summary>Slots in the batch.</summary>
    public int Capacity => _lengths.Length;

    /// <summary>Datagrams received by the last call.</summary>
    public int Count { get; set; }

    /// <summary>Where in its slot a datagram starts.</summary>
    public int DatagramOffset { get; }

    /// <summary>The most bytes a datagram may have.</summary>
    public int MaxDatagramSize => Packets.BufferSize - DatagramOffset;

    /// <summary>The length of datagram <paramref name="index"/>.</summary>
    public int GetDatagramLength(int index) => _lengths[index];

    /// <summary>Sets the length of datagram <paramref name="index"/>.</summary>
    public void SetDatagramLength(int index, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, MaxDatagramSize);
        _lengths[index] = length;
    }

    /// <summary>The space datagram <paramref name="index"/> may fill.</summary>
    public Memory<byte> GetDatagramBuffer(int index) => Packets.GetArray(index).AsMemory(DatagramOffset, MaxDatagramSize);

    /// <summary>Datagram <paramref name="index"/>.</summary>
    public Span<byte> GetDatagram(int index) => Packets.GetArray(index).AsSpan(DatagramOffset, _lengths[index]);

    /// <summary>The sender of datagram <paramref name="index"/>: a reused address; copy it to keep it.</summary>
    public SocketAddress GetRemote(int index) => _remotes[index];

    /// <inheritdoc/>
    public void Dispose() => Packets.Dispose();
}
