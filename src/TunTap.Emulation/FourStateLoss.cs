namespace TunTap.Emulation;

/// <summary>
/// netem's four-state Markov loss model (<c>loss state p13 [p31 [p32 [p23 [p14]]]]</c>, after
/// Salsano et al.). States: 1 = received in a gap period, 2 = received within a burst,
/// 3 = lost within a burst, 4 = isolated loss in a gap. Each packet moves the chain one step; the
/// packet is lost when the chain lands in 3 or 4. State 4 always returns to 1.
/// Defaults as tc: p31 = 1-p13, p32 = 0, p23 = 1, p14 = 0.
/// </summary>
public sealed class FourStateLoss : ILossModel
{
    private int _state = 1;

    /// <summary>Creates the model; all arguments are probabilities in 0-1.</summary>
    public FourStateLoss(double p13, double? p31 = null, double? p32 = null, double? p23 = null, double? p14 = null)
    {
        OptionValidation.Probability("--loss state p13", p13);
        P13 = p13;
        P31 = p31 ?? 1 - p13;
        P32 = p32 ?? 0;
        P23 = p23 ?? 1;
        P14 = p14 ?? 0;
        OptionValidation.Probability("--loss state p31", P31);
        OptionValidation.Probability("--loss state p32", P32);
        OptionValidation.Probability("--loss state p23", P23);
        OptionValidation.Probability("--loss state p14", P14);
        if (P13 + P14 > 1)
        {
            throw new TunTapException($"--loss state: p13 + p14 = {(P13 + P14) * 100:0.###}% is out of range; allowed 0-100%");
        }

        if (P31 + P32 > 1)
        {
            throw new TunTapException($"--loss state: p31 + p32 = {(P31 + P32) * 100:0.###}% is out of range; allowed 0-100%");
        }
    }

    /// <summary>Gap-reception → burst-loss probability.</summary>
    public double P13 { get; }

    /// <summary>Burst-loss → gap-reception probability.</summary>
    public double P31 { get; }

    /// <summary>Burst-loss → burst-reception probability.</summary>
    public double P32 { get; }

    /// <summary>Burst-reception → burst-loss probability.</summary>
    public double P23 { get; }

    /// <summary>Gap-reception → isolated-loss probability.</summary>
    public double P14 { get; }

    /// <summary>The current state, 1-4.</summary>
    public int State => _state;

    /// <inheritdoc />
    public double StationaryLossRate
    {
        get
        {
            // Balance equations with pi1 as unit: pi4 = p14 pi1, pi3 p31 = p13 pi1,
            // pi2 p23 = pi3 p32.
            if (P13 == 0)
            {
                return P14 / (1 + P14);
            }

            if (P31 == 0)
            {
                // Once in a burst the chain never returns to the gap period.
                return P32 == 0 ? 1 : P23 / (P23 + P32);
            }

            var pi3 = P13 / P31;
            var pi2 = P32 == 0 ? 0 : pi3 * P32 / P23;
            var pi4 = P14;
            return (pi3 + pi4) / (1 + pi2 + pi3 + pi4);
        }
    }

    /// <inheritdoc />
    public bool NextIsLost(LinkRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var u = random.NextDouble();
        switch (_state)
        {
            case 1:
                if (u < P14)
                {
                    _state = 4;
                }
                else if (u < P14 + P13)
                {
                    _state = 3;
                }

                break;
            case 2:
                if (u < P23)
                {
                    _state = 3;
                }

                break;
            case 3:
                if (u < P32)
                {
                    _state = 2;
                }
                else if (u < P32 + P31)
                {
                    _state = 1;
                }

                break;
            default:
                _state = 1;
                break;
        }

        return _state is 3 or 4;
    }
}
