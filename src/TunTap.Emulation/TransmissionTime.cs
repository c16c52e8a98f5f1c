namespace TunTap.Emulation;

/// <summary>
/// How long a packet occupies a link of a given rate, netem's way: the packet length plus a
/// per-packet overhead, rounded up to whole cells when a cell size is set (each cell then also
/// costs a cell overhead), times 8, divided by the rate. The sub-tick remainder is carried to the
/// next packet, so a long run keeps the exact rate.
/// </summary>
internal struct TransmissionTime
{
    private readonly long _bitsPerSecond;
    private readonly long _ticksPerSecond;
    private readonly int _packetOverhead;
    private readonly int _cellSize;
    private readonly int _cellOverhead;
    private Int128 _carry;

    public TransmissionTime(long bitsPerSecond, long ticksPerSecond, int packetOverhead, int cellSize, int cellOverhead)
    {
        _bitsPerSecond = bitsPerSecond;
        _ticksPerSecond = ticksPerSecond;
        _packetOverhead = packetOverhead;
        _cellSize = cellSize;
        _cellOverhead = cellOverhead;
        _carry = 0;
    }

    /// <summary>The bytes the link accounts for a packet of <paramref name="length"/> bytes.</summary>
    public readonly long WireBytes(int length)
    {
        long bytes = Math.Max(0, length + _packetOverhead);
        if (_cellSize > 0)
        {
            var cells = (bytes + _cellSize - 1) / _cellSize;
            bytes = cells * (_cellSize + _cellOverhead);
        }

        return bytes;
    }

    public long Next(int length)
    {
        var numerator = ((Int128)WireBytes(length) * 8 * _ticksPerSecond) + _carry;
        var ticks = numerator / _bitsPerSecond;
        _carry = numerator - (ticks * _bitsPerSecond);
        return (long)ticks;
    }
}
