namespace TunTap.Emulation;

/// <summary>
/// Independent loss with probability <see cref="Probability"/>, optionally correlated with the
/// previous packet's fate (netem <c>loss random P [CORR]</c>; see <see cref="CorrelatedChance"/>
/// for why the rate stays P whatever the correlation).
/// </summary>
public sealed class RandomLoss : ILossModel
{
    private CorrelatedChance _chance;

    /// <summary>Loses a packet with <paramref name="probability"/> (0-1), lag-1 correlation <paramref name="correlation"/> (0-1).</summary>
    public RandomLoss(double probability, double correlation = 0)
    {
        OptionValidation.Probability("--loss", probability);
        OptionValidation.Probability("--loss correlation", correlation);
        Probability = probability;
        Correlation = correlation;
        _chance = new CorrelatedChance(probability, correlation);
    }

    /// <summary>The loss probability.</summary>
    public double Probability { get; }

    /// <summary>The correlation between successive decisions.</summary>
    public double Correlation { get; }

    /// <inheritdoc />
    public double StationaryLossRate => Probability;

    /// <inheritdoc />
    public bool NextIsLost(LinkRandom random) => _chance.Next(random);
}
