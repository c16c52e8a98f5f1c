namespace TunTap.Emulation;

/// <summary>netem <c>loss gemodel p [r [1-h [1-k]]]</c>: probabilities as fractions; null takes tc's default.</summary>
public sealed record GilbertElliottLossOptions(double P, double? R = null, double? OneMinusH = null, double? OneMinusK = null) : LossOptions
{
    /// <inheritdoc />
    public override ILossModel CreateModel() => new GilbertElliottLoss(P, R, OneMinusH, OneMinusK);
}
