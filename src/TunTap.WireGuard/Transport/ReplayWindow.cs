namespace TunTap.WireGuard.Transport;

/// <summary>
/// Sliding-window replay protection for transport counters, the bitmap scheme of RFC 6479 as
/// WireGuard sizes it: a ring of 128 64-bit blocks (8192 bits), of which one block is kept as
/// slack, so counters up to <see cref="WindowSize"/> (8128) behind the highest one seen are
/// still accepted once each. Moving forward clears only the blocks it passes, so the cost per
/// packet is constant. Not thread-safe: the receive path for one keypair owns it.
/// </summary>
public sealed class ReplayWindow
{
    private const int BlockBitsLog = 6;
    private const int BlockBits = 1 << BlockBitsLog;
    private const int RingBlocks = 128;
    private const int RingMask = RingBlocks - 1;

    /// <summary>How far behind the highest accepted counter a counter may be.</summary>
    public const int WindowSize = (RingBlocks - 1) * BlockBits;

    /// <summary>Counters from here on are never accepted (2^64 - 2^13 - 1): keys must be renewed first.</summary>
    public const ulong RejectAfterMessages = ulong.MaxValue - (1UL << 13);

    private readonly ulong[] _blocks = new ulong[RingBlocks];
    private ulong _last;

    /// <summary>The highest counter accepted so far (0 before any).</summary>
    public ulong Highest => _last;

    /// <summary>
    /// Accepts <paramref name="counter"/> the first time it is seen inside the window and marks
    /// it; false for replays, counters too old, and counters at or past <see cref="RejectAfterMessages"/>.
    /// Call it only after the packet authenticated, so forged counters cannot move the window.
    /// </summary>
    public bool TryAccept(ulong counter)
    {
        if (counter >= RejectAfterMessages)
        {
            return false;
        }

        var block = counter >> BlockBitsLog;
        if (counter > _last)
        {
            var current = _last >> BlockBitsLog;
            var advance = Math.Min(block - current, RingBlocks);
            for (ulong i = 1; i <= advance; i++)
            {
                _blocks[(int)((current + i) & RingMask)] = 0;
            }

            _last = counter;
        }
        else if (_last - counter > WindowSize)
        {
            return false;
        }

        var index = (int)(block & RingMask);
        var bit = 1UL << (int)(counter & (BlockBits - 1));
        var old = _blocks[index];
        _blocks[index] = old | bit;
        return (old & bit) == 0;
    }

    /// <summary>Forgets everything (for a new keypair).</summary>
    public void Reset()
    {
        Array.Clear(_blocks);
        _last = 0;
    }
}
