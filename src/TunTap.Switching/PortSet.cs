using System.Numerics;

namespace TunTap.Switching;

/// <summary>
/// A reusable set of port ids (a bitmap): the egress ports of one forwarding decision. Cleared
/// and refilled per frame; never allocates after construction.
/// </summary>
public sealed class PortSet
{
    private readonly ulong[] _bits;

    /// <summary>A set able to hold ids 0 to <paramref name="capacity"/> - 1.</summary>
    public PortSet(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _bits = new ulong[(capacity + 63) / 64];
    }

    /// <summary>One more than the largest id the set can hold.</summary>
    public int Capacity { get; }

    /// <summary>How many ports are in the set.</summary>
    public int Count
    {
        get
        {
            var count = 0;
            foreach (var word in _bits)
            {
                count += BitOperations.PopCount(word);
            }

            return count;
        }
    }

    /// <summary>True when no port is in the set.</summary>
    public bool IsEmpty
    {
        get
        {
            foreach (var word in _bits)
            {
                if (word != 0)
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>Adds <paramref name="port"/>.</summary>
    public void Add(int port)
    {
        CheckRange(port);
        _bits[port >> 6] |= 1UL << (port & 63);
    }

    /// <summary>Removes <paramref name="port"/>.</summary>
    public void Remove(int port)
    {
        CheckRange(port);
        _bits[port >> 6] &= ~(1UL << (port & 63));
    }

    /// <summary>True when <paramref name="port"/> is in the set (false for ids out of range).</summary>
    public bool Contains(int port) => (uint)port < (uint)Capacity && (_bits[port >> 6] & (1UL << (port & 63))) != 0;

    /// <summary>Empties the set.</summary>
    public void Clear() => Array.Clear(_bits);

    /// <summary>Enumerates the ids in ascending order without allocating.</summary>
    public Enumerator GetEnumerator() => new(_bits);

    private void CheckRange(int port)
    {
        if ((uint)port >= (uint)Capacity)
        {
            throw new ArgumentOutOfRangeException(nameof(port), port, $"port ids are 0-{Capacity - 1}");
        }
    }

    /// <summary>Walks the set bits of a <see cref="PortSet"/>.</summary>
    public struct Enumerator
    {
        private readonly ulong[] _bits;
        private int _word;
        private ulong _remaining;

        internal Enumerator(ulong[] bits)
        {
            _bits = bits;
            _word = -1;
            _remaining = 0;
            Current = -1;
        }

        /// <summary>The current port id.</summary>
        public int Current { get; private set; }

        /// <summary>Moves to the next id in the set.</summary>
        public bool MoveNext()
        {
            while (_remaining == 0)
            {
                _word++;
                if (_word >= _bits.Length)
                {
                    return false;
                }

                _remaining = _bits[_word];
            }

            var bit = BitOperations.TrailingZeroCount(_remaining);
            _remaining &= _remaining - 1;
            Current = (_word * 64) + bit;
            return true;
        }
    }
}
