namespace TunTap.Emulation;

/// <summary>
/// The Gilbert-Elliott two-state loss model (netem <c>loss gemodel p [r [1-h [1-k]]]</c>). The
/// chain is in Good or Bad; a packet is lost with probability 1-k in Good and 1-h in Bad, then the
/// chain moves Good→Bad with probability p and Bad→Good with probability r. With the defaults
/// (r = 1-p, 1-h = 1, 1-k = 0) it is the simple Gilbert model: loss bursts last 1/r packets on
/// average.
/// </summary>
public sealed class GilbertElliottLoss : ILossModel
{
    private bool _bad;

    /// <summary>Creates the model; all arguments are probabilities in 0-1.</summary>
    /// <param name="p">Good→Bad transition probability.</param>
    /// <param name="r">Bad→Good transition probability; 1-p when null.</param>
    /// <param name="oneMinusH">Loss probability in Bad; 1 when null.</param>
    /// <param name="oneMinusK">Loss probability in Good; 0 when null.</param>
    public GilbertElliottLoss(double p, double? r = null, double? oneMinusH = null, double? oneMinusK = null)
    {
        OptionValidation.Probability("--loss gemodel p", p);
        P = p;
        R = r ?? 1 - p;
        OneMinusH = oneMinusH ?? 1;
        OneMinusK = oneMinusK ?? 0;
        OptionValidation.Probability("--loss gemodel r", R);
        OptionValidation.Probability("--loss gemodel 1-h", OneMinusH);
        OptionValidation.Probability("--loss gemodel 1-k", OneMinusK);
    }

    /// <summary>Good→Bad transition probability.</summary>
    public double P { get; }

    /// <summary>Bad→Good transition probability.</summary>
    public double R { get; }

    /// <summary>Loss probability in the Bad state.</summary>
    public double OneMinusH { get; }

    /// <summary>Loss probability in the Good state.</summary>
    public double OneMinusK { get; }

    /// <summary>Whether the chain is in the Bad state now.</summary>
    public bool InBadState => _bad;

    /// <inheritdoc />
    public double StationaryLossRate
    {
        get
        {
            if (P + R == 0)
            {
                return OneMinusK;
            }

            var bad = P / (P + R);
            return (bad * OneMinusH) + ((1 - bad) * OneMinusK);
        }
    }

    /// <inheritdoc />
    public bool NextIsLost(LinkRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var lost = random.NextDouble() < (_bad ? OneMinusH : OneMinusK);
        if (_bad)
        {
            if (random.NextDouble() < R)
            {
                _bad = false;
            }
        }
        else if (random.NextDouble() < P)
        {
            _bad = true;
        }

        return lost;
    }
}
