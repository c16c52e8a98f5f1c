namespace TunTap.Emulation;

/// <summary>
/// Sends a second, independent copy of a packet with a (correlated) probability (netem
/// <c>duplicate P [CORR]</c>). The copy follows the original through the rest of the link, getting
/// its own delay, loss-free since loss was decided upstream.
/// </summary>
public sealed class DuplicationStage : ILinkStage
{
    private readonly LinkRandom _random;
    private CorrelatedChance _chance;

    /// <summary>Duplicates with <paramref name="probability"/> (0-1) and lag-1 <paramref name="correlation"/> (0-1).</summary>
    public DuplicationStage(double probability, double correlation, LinkRandom random)
    {
        OptionValidation.Probability("--duplicate", probability);
        OptionValidation.Probability("--duplicate correlation", correlation);
        ArgumentNullException.ThrowIfNull(random);
        _random = random;
        _chance = new CorrelatedChance(probability, correlation);
    }

    /// <inheritdoc />
    public long NextEventTicks => long.MaxValue;

    /// <inheritdoc />
    public void Offer(LinkPacket packet, long nowTicks, ILinkStageOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var duplicate = _chance.Next(_random);
        LinkPacket copy = default;
        if (duplicate)
        {
            copy = output.Copy(packet);
            output.Counters.Duplicated++;
        }

        output.Forward(packet, nowTicks);
        if (duplicate)
        {
            output.Forward(copy, nowTicks);
        }
    }

    /// <inheritdoc />
    public void Advance(long nowTicks, ILinkStageOutput output)
    {
    }
}
