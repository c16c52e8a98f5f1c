namespace TunTap.Emulation;

/// <summary>
/// A FIFO of packets, each with a time (when it was queued, or when it is due), on a circular array. It grows (doubling) only when full, so a link in steady
/// state allocates nothing.
/// </summary>
internal sealed class PacketRing
{
    private TimedPacket[] _items;
    private int _head;

    public PacketRing(int initialCapacity = 64)
    {
        _items = new TimedPacket[Math.Max(4, initialCapacity)];
    }

    public int Count { get; private set; }

    public long Bytes { get; private set; }

    public ref readonly TimedPacket Peek()
    {
        if (Count == 0)
        {
            throw new InvalidOperationException("The ring is empty.");
        }

        return ref _items[_head];
    }

    public void Enqueue(LinkPacket packet, long ticks)
    {
        if (Count == _items.Length)
        {
            Grow();
        }

        _items[(_head + Count) % _items.Length] = new TimedPacket(packet, ticks);
        Count++;
        Bytes += packet.Length;
    }

    public TimedPacket Dequeue()
    {
        var entry = Peek();
        _items[_head] = default;
        _head = (_head + 1) % _items.Length;
        Count--;
        Bytes -= entry.Packet.Length;
        return entry;
    }

    private void Grow()
    {
        var bigger = new TimedPacket[_items.Length * 2];
        for (var i = 0; i < Count; i++)
        {
            bigger[i] = _items[(_head + i) % _items.Length];
        }

        _items = bigger;
        _head = 0;
    }
}
