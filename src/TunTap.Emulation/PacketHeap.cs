namespace TunTap.Emulation;

/// <summary>
/// Packets ordered by a due time, ties broken by insertion order (a time-ordered FIFO, netem's
/// tfifo). A binary heap on an array that grows only when full.
/// </summary>
internal sealed class PacketHeap
{
    private Entry[] _items;
    private long _inserted;

    public PacketHeap(int initialCapacity = 64)
    {
        _items = new Entry[Math.Max(4, initialCapacity)];
    }

    public int Count { get; private set; }

    public long MinDue => Count == 0 ? long.MaxValue : _items[0].Due;

    public void Push(LinkPacket packet, long due)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }

        var entry = new Entry(packet, due, _inserted++);
        var i = Count++;
        while (i > 0)
        {
            var parent = (i - 1) / 2;
            if (!Before(entry, _items[parent]))
            {
                break;
            }

            _items[i] = _items[parent];
            i = parent;
        }

        _items[i] = entry;
    }

    public LinkPacket Pop()
    {
        if (Count == 0)
        {
            throw new InvalidOperationException("The heap is empty.");
        }

        var top = _items[0].Packet;
        var last = _items[--Count];
        _items[Count] = default;
        if (Count > 0)
        {
            var i = 0;
            while (true)
            {
                var child = (2 * i) + 1;
                if (child >= Count)
                {
                    break;
                }

                if (child + 1 < Count && Before(_items[child + 1], _items[child]))
                {
                    child++;
                }

                if (!Before(_items[child], last))
                {
                    break;
                }

                _items[i] = _items[child];
                i = child;
            }

            _items[i] = last;
        }

        return top;
    }

    private static bool Before(in Entry a, in Entry b) => a.Due < b.Due || (a.Due == b.Due && a.Order < b.Order);

    private readonly record struct Entry(LinkPacket Packet, long Due, long Order);
}
