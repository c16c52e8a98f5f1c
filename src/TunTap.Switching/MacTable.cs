using TunTap.Wire;

namespace TunTap.Switching;

/// <summary>
/// The forwarding database: (VLAN, MAC) to port, with aging and hard limits. Its memory is fixed
/// at construction (<see cref="Capacity"/> slots and an index sized for them), so a flood of random
/// source addresses cannot grow it: addresses beyond the global or per-port limit are simply not
/// learned. Times are <see cref="TimeProvider.GetTimestamp"/> values of the provider given to the
/// constructor. Not thread-safe.
/// </summary>
public sealed class MacTable
{
    private readonly Slot[] _slots;
    private readonly int[] _free;
    private readonly Dictionary<ulong, int> _index;
    private readonly int[] _perPort;
    private readonly TimeProvider _time;
    private readonly long _agingTicks;
    private int _freeCount;

    /// <summary>Creates an empty table.</summary>
    /// <param name="capacity">The most addresses held at once (all ports, all VLANs).</param>
    /// <param name="maxPorts">Port ids are 0 to this - 1.</param>
    /// <param name="agingTime">An address not seen for this long is forgotten.</param>
    /// <param name="time">The clock.</param>
    public MacTable(int capacity, int maxPorts, TimeSpan agingTime, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPorts, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(agingTime, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(time);
        _slots = new Slot[capacity];
        _free = new int[capacity];
        for (var i = 0; i < capacity; i++)
        {
            _free[i] = capacity - 1 - i;
        }

        _freeCount = capacity;
        _index = new Dictionary<ulong, int>(capacity);
        _perPort = new int[maxPorts];
        _time = time;
        AgingTime = agingTime;
        _agingTicks = (long)(agingTime.TotalSeconds * time.TimestampFrequency);
    }

    /// <summary>The most addresses held at once.</summary>
    public int Capacity => _slots.Length;

    /// <summary>How long an address is kept without being seen.</summary>
    public TimeSpan AgingTime { get; }

    /// <summary>Addresses held now (expired ones count until looked up or swept).</summary>
    public int Count => _index.Count;

    /// <summary>Addresses held for <paramref name="port"/>.</summary>
    public int CountOnPort(int port) => _perPort[port];

    /// <summary>Records that <paramref name="address"/> in <paramref name="vlan"/> was seen on <paramref name="port"/> at <paramref name="now"/>.</summary>
    /// <param name="address">The source address.</param>
    /// <param name="vlan">The VLAN of the frame.</param>
    /// <param name="port">The ingress port.</param>
    /// <param name="portLimit">The most addresses <paramref name="port"/> may hold.</param>
    /// <param name="now">A <see cref="TimeProvider.GetTimestamp"/> value.</param>
    /// <param name="previousPort">For <see cref="LearnOutcome.Moved"/>, the port the address was on; otherwise -1.</param>
    public LearnOutcome Learn(MacAddress address, ushort vlan, int port, int portLimit, long now, out int previousPort)
    {
        previousPort = -1;
        var key = Key(address, vlan);
        if (_index.TryGetValue(key, out var slot))
        {
            ref var entry = ref _slots[slot];
            if (entry.Port == port)
            {
                entry.LastSeen = now;
                return LearnOutcome.Refreshed;
            }

            previousPort = entry.Port;
            if (_perPort[port] >= portLimit)
            {
                // Pointing at the old port would be stale; flooding is right until it can be learned.
                Remove(key, slot);
                return LearnOutcome.PortLimitReached;
            }

            _perPort[entry.Port]--;
            _perPort[port]++;
            entry.Port = port;
            entry.LastSeen = now;
            return LearnOutcome.Moved;
        }

        if (_perPort[port] >= portLimit)
        {
            return LearnOutcome.PortLimitReached;
        }

        if (_freeCount == 0)
        {
            return LearnOutcome.TableFull;
        }

        var free = _free[--_freeCount];
        _slots[free] = new Slot { Key = key, Port = port, LastSeen = now, InUse = true };
        _index.Add(key, free);
        _perPort[port]++;
        return LearnOutcome.Learned;
    }

    /// <summary>The port <paramref name="address"/> in <paramref name="vlan"/> was last seen on, unless unknown or expired (an expired entry is removed).</summary>
    public bool TryLookup(MacAddress address, ushort vlan, long now, out int port)
    {
        var key = Key(address, vlan);
        if (_index.TryGetValue(key, out var slot))
        {
            ref var entry = ref _slots[slot];
            if (now - entry.LastSeen <= _agingTicks)
            {
                port = entry.Port;
                return true;
            }

            Remove(key, slot);
        }

        port = -1;
        return false;
    }

    /// <summary>Removes every address not seen within the aging time; returns how many.</summary>
    public int Sweep(long now)
    {
        var removed = 0;
        for (var i = 0; i < _slots.Length; i++)
        {
            ref var entry = ref _slots[i];
            if (entry.InUse && now - entry.LastSeen > _agingTicks)
            {
                Remove(entry.Key, i);
                removed++;
            }
        }

        return removed;
    }

    /// <summary>Forgets every address learned on <paramref name="port"/> (port removed, peer reconnected); returns how many.</summary>
    public int FlushPort(int port)
    {
        var removed = 0;
        for (var i = 0; i < _slots.Length && _perPort[port] > 0; i++)
        {
            ref var entry = ref _slots[i];
            if (entry.InUse && entry.Port == port)
            {
                Remove(entry.Key, i);
                removed++;
            }
        }

        return removed;
    }

    /// <summary>Adds every live entry to <paramref name="entries"/> (for display; allocates).</summary>
    public void CopyEntries(List<MacTableEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var now = _time.GetTimestamp();
        foreach (var entry in _slots)
        {
            if (entry.InUse && now - entry.LastSeen <= _agingTicks)
            {
                entries.Add(new MacTableEntry(MacAddress.FromValue(entry.Key), (ushort)(entry.Key >> 48), entry.Port, _time.GetElapsedTime(entry.LastSeen, now)));
            }
        }
    }

    private static ulong Key(MacAddress address, ushort vlan) => ((ulong)vlan << 48) | address.Value;

    private void Remove(ulong key, int slot)
    {
        _index.Remove(key);
        _perPort[_slots[slot].Port]--;
        _slots[slot] = default;
        _free[_freeCount++] = slot;
    }

    private struct Slot
    {
        public ulong Key;
        public int Port;
        public long LastSeen;
        public bool InUse;
    }
}
