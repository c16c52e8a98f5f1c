namespace TunTap.Emulation;

/// <summary>
/// A yes/no event with mean probability <c>p</c> whose successive outcomes are correlated with
/// coefficient <c>rho</c>: a two-state Markov chain with P(yes | last yes) = p + rho(1 - p) and
/// P(yes | last no) = p(1 - rho). Unlike netem's correlation (which averages uniform draws and so
/// shifts the rate), the long-run rate stays exactly p for every rho.
/// </summary>
internal struct CorrelatedChance
{
    private readonly double _probability;
    private readonly double _afterYes;
    private readonly double _afterNo;
    private bool _last;
    private bool _started;

    public CorrelatedChance(double probability, double correlation)
    {
        _probability = probability;
        _afterYes = probability + (correlation * (1 - probability));
        _afterNo = probability * (1 - correlation);
        _last = false;
        _started = false;
    }

    public bool Next(LinkRandom random)
    {
        if (_probability <= 0)
        {
            return false;
        }

        var chance = !_started ? _probability : _last ? _afterYes : _afterNo;
        _started = true;
        _last = random.NextDouble() < chance;
        return _last;
    }
}
