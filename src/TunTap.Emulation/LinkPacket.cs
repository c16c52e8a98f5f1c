namespace TunTap.Emulation;

/// <summary>
/// A packet travelling through a <see cref="LinkModel"/>. Its bytes live in a buffer rented from
/// the link's pool; whoever holds the packet owns that buffer and
/// passes it on (to the next stage, or back to the pool through <see cref="LinkModel.Release"/>)
/// exactly once.
/// </summary>
public readonly record struct LinkPacket
{
    /// <summary>Wraps a rented buffer holding <paramref name="length"/> bytes of packet.</summary>
    public LinkPacket(byte[] buffer, int length, long sequence, long arrivalTicks, long departureTicks)
    {
        Buffer = buffer;
        Length = length;
        Sequence = sequence;
        ArrivalTicks = arrivalTicks;
        DepartureTicks = departureTicks;
    }

    /// <summary>The rented buffer; only the first <see cref="Length"/> bytes are the packet.</summary>
    public byte[] Buffer { get; }

    /// <summary>The packet length in bytes.</summary>
    public int Length { get; }

    /// <summary>The order in which packets (and duplicates) entered the link, from 0.</summary>
    public long Sequence { get; }

    /// <summary>When the packet entered the link.</summary>
    public long ArrivalTicks { get; }

    /// <summary>When the packet left the link (set once it is delivered).</summary>
    public long DepartureTicks { get; }

    /// <summary>The packet bytes.</summary>
    public Span<byte> Span => Buffer.AsSpan(0, Length);

    /// <summary>The same packet with another departure time.</summary>
    public LinkPacket WithDeparture(long departureTicks) => new(Buffer, Length, Sequence, ArrivalTicks, departureTicks);
}
