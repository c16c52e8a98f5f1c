using System.Runtime.CompilerServices;

namespace TunTap.Services;

/// <summary>
/// Drop counts by reason, for an enum of reasons numbered from 0 (an <see cref="int"/> enum, as
/// every <c>*DropReason</c> is): counted with interlocked operations by the thread that drops, read
/// from any thread while it runs. Nothing is allocated per count.
/// </summary>
/// <typeparam name="TReason">The reasons: an enum whose values are 0 to N-1.</typeparam>
public sealed class DropCounters<TReason>
    where TReason : struct, Enum
{
    private readonly long[] _counts = new long[Enum.GetValues<TReason>().Length];

    /// <summary>Drops for all reasons.</summary>
    public long Total
    {
        get
        {
            long total = 0;
            for (var i = 0; i < _counts.Length; i++)
            {
                total += Interlocked.Read(ref _counts[i]);
            }

            return total;
        }
    }

    /// <summary>Drops for <paramref name="reason"/> (0 for a value outside the enum).</summary>
    public long Get(TReason reason) =>
        (uint)Index(reason) < (uint)_counts.Length ? Interlocked.Read(ref _counts[Index(reason)]) : 0;

    /// <summary>Counts <paramref name="count"/> drops for <paramref name="reason"/>.</summary>
    public void Count(TReason reason, long count = 1) => Interlocked.Add(ref _counts[Index(reason)], count);

    private static int Index(TReason reason) => Unsafe.BitCast<TReason, int>(reason);
}
