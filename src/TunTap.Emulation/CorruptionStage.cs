namespace TunTap.Emulation;

/// <summary>
/// Flips one random bit of a packet with a (correlated) probability (netem <c>corrupt P [CORR]</c>).
/// An <see cref="ICorruptionFixup"/> narrows where the bit may flip and can repair checksums.
/// </summary>
public sealed class CorruptionStage : ILinkStage
{
    private readonly LinkRandom _random;
    private readonly ICorruptionFixup? _fixup;
    private CorrelatedChance _chance;

    /// <summary>Corrupts with <paramref name="probability"/> (0-1) and lag-1 <paramref name="correlation"/> (0-1).</summary>
    public CorruptionStage(double probability, double correlation, LinkRandom random, ICorruptionFixup? fixup = null)
    {
        OptionValidation.Probability("--corrupt", probability);
        OptionValidation.Probability("--corrupt correlation", correlation);
        ArgumentNullException.ThrowIfNull(random);
        _random = random;
        _fixup = fixup;
        _chance = new CorrelatedChance(probability, correlation);
    }

    /// <inheritdoc />
    public long NextEventTicks => long.MaxValue;

    /// <inheritdoc />
    public void Offer(LinkPacket packet, long nowTicks, ILinkStageOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (_chance.Next(_random) && packet.Length > 0)
        {
            var bytes = packet.Span;
            var (offset, length) = _fixup is null ? (0, bytes.Length) : _fixup.SelectRegion(bytes).GetOffsetAndLength(bytes.Length);
            if (length > 0)
            {
                var bit = _random.NextLong((long)length * 8);
                bytes[offset + (int)(bit >> 3)] ^= (byte)(1 << (int)(bit & 7));
                _fixup?.AfterCorruption(bytes);
                output.Counters.Corrupted++;
            }
        }

        output.Forward(packet, nowTicks);
    }

    /// <inheritdoc />
    public void Advance(long nowTicks, ILinkStageOutput output)
    {
    }
}
