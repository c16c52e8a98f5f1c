namespace TunTap.Emulation;

/// <summary>netem <c>loss random P [CORR]</c>: probabilities as fractions (0.01 = 1%).</summary>
public sealed record RandomLossOptions(double Probability, double Correlation = 0) : LossOptions
{
    /// <inheritdoc />
    public override ILossModel CreateModel() => new RandomLoss(Probability, Correlation);
}
