using System.Buffers.Binary;

namespace TunTap.WireGuard.Crypto;

/// <summary>
/// TAI64N timestamps as WireGuard sends them in handshake initiations: 8 bytes big-endian seconds
/// (2^62 + 10 + Unix seconds) and 4 bytes big-endian nanoseconds, rounded down to 2^24 ns so the
/// timestamp does not leak a fine-grained clock. Later timestamps compare greater bytewise.
/// </summary>
public static class Tai64N
{
    /// <summary>Encoded length.</summary>
    public const int Size = 12;

    private const ulong Base = 0x400000000000000a;
    private const uint WhitenerMask = 0x1000000 - 1;

    /// <summary>Writes the timestamp of <paramref name="time"/>.</summary>
    public static void Write(DateTimeOffset time, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, Size);
        var unixTicks = time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        var seconds = Math.DivRem(unixTicks, TimeSpan.TicksPerSecond, out var ticks);
        var nanoseconds = (uint)(ticks * 100) & ~WhitenerMask;
        BinaryPrimitives.WriteUInt64BigEndian(destination, Base + (ulong)seconds);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], nanoseconds);
    }

    /// <summary>True when <paramref name="candidate"/> is strictly later than <paramref name="previous"/>.</summary>
    public static bool IsAfter(ReadOnlySpan<byte> candidate, ReadOnlySpan<byte> previous) =>
        candidate[..Size].SequenceCompareTo(previous[..Size]) > 0;
}
