namespace TunTap.Emulation;

/// <summary>
/// Draws delays: <c>delay + scale * z</c> where z has mean 0 and standard deviation 1 and follows the
/// chosen distribution. Correlation is an AR(1) process on z
/// (<c>z = rho * z_prev + sqrt(1 - rho^2) * e</c>), which keeps the mean and standard deviation
/// for every rho (netem's averaging of uniform draws narrows the spread instead).
/// </summary>
internal sealed class JitterSampler
{
    private static readonly double Sqrt3 = Math.Sqrt(3);
    private readonly long _mean;
    private readonly double _scale;
    private readonly double _correlation;
    private readonly double _innovation;
    private readonly double[]? _table;
    private double _last;
    private bool _started;

    public JitterSampler(long meanTicks, long jitterTicks, DelayDistribution distribution, double correlation)
    {
        _mean = meanTicks;
        _table = DistributionTables.For(distribution);

        // Uniform jitter spans mean ± jitter, so its standard deviation is jitter / sqrt(3).
        _scale = _table is null ? jitterTicks / Sqrt3 : jitterTicks;
        _correlation = correlation;
        _innovation = Math.Sqrt(1 - (correlation * correlation));
    }

    public long Next(LinkRandom random)
    {
        if (_scale == 0)
        {
            return _mean;
        }

        var e = _table is null ? ((2 * random.NextDouble()) - 1) * Sqrt3 : _table[random.NextInt(_table.Length)];
        var z = _started ? (_correlation * _last) + (_innovation * e) : e;
        _started = true;
        _last = z;
        return _mean + (long)Math.Round(_scale * z);
    }
}
