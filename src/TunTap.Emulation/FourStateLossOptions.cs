namespace TunTap.Emulation;

/// <summary>netem <c>loss state p13 [p31 [p32 [p23 [p14]]]]</c>: probabilities as fractions; null takes tc's default.</summary>
public sealed record FourStateLossOptions(double P13, double? P31 = null, double? P32 = null, double? P23 = null, double? P14 = null) : LossOptions
{
    /// <inheritdoc />
    public override ILossModel CreateModel() => new FourStateLoss(P13, P31, P32, P23, P14);
}
