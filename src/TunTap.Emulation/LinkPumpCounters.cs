namespace TunTap.Emulation;

/// <summary>
/// The device side of one link direction: what was read from the source device and written to the
/// destination, and how late departures were. Each field has one writer thread; readers may look
/// at any time (values are read atomically, not as one snapshot).
/// </summary>
public sealed class LinkPumpCounters
{
    private long _readPackets;
    private long _readBytes;
    private long _writtenPackets;
    private long _writtenBytes;
    private long _rejectedWrites;
    private long _latenessTotalTicks;
    private long _latenessMaxTicks;

    internal LinkPumpCounters(long ticksPerSecond)
    {
        TicksPerSecond = ticksPerSecond;
    }

    /// <summary>Ticks per second of the link's clock (for the lateness values).</summary>
    public long TicksPerSecond { get; }

    /// <summary>Packets read from the source device.</summary>
    public long ReadPackets => Volatile.Read(ref _readPackets);

    /// <summary>Bytes read from the source device.</summary>
    public long ReadBytes => Volatile.Read(ref _readBytes);

    /// <summary>Packets the destination device accepted.</summary>
    public long WrittenPackets => Volatile.Read(ref _writtenPackets);

    /// <summary>Bytes the destination device accepted.</summary>
    public long WrittenBytes => Volatile.Read(ref _writtenBytes);

    /// <summary>Packets the destination device refused (malformed, device down).</summary>
    public long RejectedWrites => Volatile.Read(ref _rejectedWrites);

    /// <summary>Mean time between a packet's departure time and its write.</summary>
    public TimeSpan MeanLateness
    {
        get
        {
            var written = WrittenPackets + RejectedWrites;
            return written == 0 ? TimeSpan.Zero : ToTimeSpan(Volatile.Read(ref _latenessTotalTicks) / written);
        }
    }

    /// <summary>The latest any packet was written after its departure time.</summary>
    public TimeSpan MaxLateness => ToTimeSpan(Volatile.Read(ref _latenessMaxTicks));

    internal void AddRead(int packets, long bytes)
    {
        Volatile.Write(ref _readPackets, _readPackets + packets);
        Volatile.Write(ref _readBytes, _readBytes + bytes);
    }

    internal void AddWritten(int accepted, int rejected, long bytes)
    {
        Volatile.Write(ref _writtenPackets, _writtenPackets + accepted);
        Volatile.Write(ref _writtenBytes, _writtenBytes + bytes);
        if (rejected > 0)
        {
            Volatile.Write(ref _rejectedWrites, _rejectedWrites + rejected);
        }
    }

    internal void AddLateness(long ticks)
    {
        Volatile.Write(ref _latenessTotalTicks, _latenessTotalTicks + ticks);
        if (ticks > _latenessMaxTicks)
        {
            Volatile.Write(ref _latenessMaxTicks, ticks);
        }
    }

    private TimeSpan ToTimeSpan(long ticks) => TimeSpan.FromTicks((long)((double)ticks * TimeSpan.TicksPerSecond / TicksPerSecond));
}
