using TunTap.Emulation;
using static TunTap.Tests.Emulation.LinkHarness;

namespace TunTap.Tests.Emulation;

public sealed class DelayStageTests
{
    private const int Samples = 100_000;

    private static List<double> DelaysMs(LinkModelOptions options, ulong seed = 7)
    {
        var model = Create(options with { Limit = Samples + 1 }, seed);
        var delivered = Run(model, Periodic(Samples, Ms(1)));
        Assert.Equal(Samples, delivered.Count);
        var delays = new double[Samples];
        foreach (var d in delivered)
        {
            delays[d.Sequence] = (d.Departure - d.Arrival) * 1000.0 / Frequency;
        }

        return [.. delays];
    }

    [Theory]
    [InlineData(DelayDistribution.Uniform, 10 / 1.7320508075688772)]
    [InlineData(DelayDistribution.Normal, 10)]
    [InlineData(DelayDistribution.Pareto, 10)]
    [InlineData(DelayDistribution.ParetoNormal, 10)]
    public void Delay_distribution_has_the_configured_mean_and_spread(DelayDistribution distribution, double expectedStdDevMs)
    {
        var delays = DelaysMs(new LinkModelOptions { Delay = TimeSpan.FromMilliseconds(50), Jitter = TimeSpan.FromMilliseconds(10), Distribution = distribution });
        var (mean, sd) = Stats(delays);
        Assert.InRange(mean, 49.85, 50.15);
        Assert.InRange(sd, expectedStdDevMs * 0.96, expectedStdDevMs * 1.04);
    }

    [Fact]
    public void Uniform_jitter_stays_within_delay_plus_minus_jitter()
    {
        var delays = DelaysMs(new LinkModelOptions { Delay = TimeSpan.FromMilliseconds(50), Jitter = TimeSpan.FromMilliseconds(10) });
        Assert.InRange(delays.Min(), 40, 40.2);
        Assert.InRange(delays.Max(), 59.8, 60);
    }

    [Fact]
    public void Pareto_jitter_has_a_long_right_tail()
    {
        var delays = DelaysMs(new LinkModelOptions { Delay = TimeSpan.FromMilliseconds(50), Jitter = TimeSpan.FromMilliseconds(10), Distribution = DelayDistribution.Pareto });
        var sorted = delays.Order().ToArray();
        var median = sorted[Samples / 2];
        Assert.True(median < 50, $"median {median} should sit below the mean");
        Assert.True(sorted[^1] - 50 > 5 * (50 - sorted[0]), "the right tail should be far longer than the left");
    }

    [Fact]
    public void Delay_correlation_sets_lag1_correlation_and_keeps_mean_and_spread()
    {
        var options = new LinkModelOptions { Delay = TimeSpan.FromMilliseconds(100), Jitter = TimeSpan.FromMilliseconds(10), Distribution = DelayDistribution.Normal };
        var independent = DelaysMs(options);
        var correlated = DelaysMs(options with { DelayCorrelation = 0.75 });
        Assert.InRange(Lag1Correlation(independent), -0.02, 0.02);
        Assert.InRange(Lag1Correlation(correlated), 0.72, 0.78);
        var (mean, sd) = Stats(correlated);
        Assert.InRange(mean, 99.7, 100.3);
        Assert.InRange(sd, 9.6, 10.4);
    }

    [Fact]
    public void Jitter_reorders_packets_unless_order_is_kept()
    {
        var options = new LinkModelOptions { Delay = TimeSpan.FromMilliseconds(50), Jitter = TimeSpan.FromMilliseconds(20) };
        var reordered = Run(Create(options), Periodic(2000, Ms(1)));
        Assert.Contains(reordered.Zip(reordered.Skip(1)), pair => pair.Second.Sequence < pair.First.Sequence);

        var ordered = Run(Create(options with { KeepOrder = true }), Periodic(2000, Ms(1)));
        Assert.Equal(Enumerable.Range(0, 2000).Select(i => (long)i), ordered.Select(d => d.Sequence));
        Assert.All(ordered, d => Assert.True(d.Departure - d.Arrival >= Ms(30)));
    }

    [Fact]
    public void Reorder_with_gap_sends_every_gapth_packet_at_once()
    {
        var options = new LinkModelOptions { Delay = TimeSpan.FromMilliseconds(10), Reorder = 1, ReorderGap = 5 };
        var model = Create(options);
        var delivered = Run(model, Periodic(50, Ms(1)));
        var immediate = delivered.Where(d => d.Departure == d.Arrival).Select(d => d.Sequence).ToArray();
        Assert.Equal(new long[] { 4, 9, 14, 19, 24, 29, 34, 39, 44, 49 }, immediate);
        Assert.All(delivered.Where(d => d.Departure != d.Arrival), d => Assert.Equal(Ms(10), d.Departure - d.Arrival));
        Assert.Equal(10, model.Counters.Reordered);

        // Packet 4 overtakes packets 0-3, which are still in the delay line.
        Assert.Equal(4, delivered[0].Sequence);
    }

    [Fact]
    public void Reorder_probability_without_gap_applies_to_each_packet()
    {
        var model = Create(new LinkModelOptions { Delay = TimeSpan.FromMilliseconds(10), Reorder = 0.25, Limit = Samples });
        var delivered = Run(model, Periodic(Samples, Ms(1)));
        var immediate = delivered.Count(d => d.Departure == d.Arrival);
        var sigma = Math.Sqrt(Samples * 0.25 * 0.75);
        Assert.InRange(immediate, (Samples * 0.25) - (3 * sigma), (Samples * 0.25) + (3 * sigma));
    }

    [Fact]
    public void Delay_line_drops_beyond_its_limit()
    {
        var model = Create(new LinkModelOptions { Delay = TimeSpan.FromMilliseconds(100), Limit = 10 });
        var delivered = Run(model, Periodic(30, Ms(1)));
        Assert.Equal(10, delivered.Count);
        Assert.Equal(20, model.Counters.Dropped(DropReason.DelayLimit));
    }

    [Fact]
    public void Reorder_without_delay_is_rejected_naming_the_option()
    {
        var e = Assert.Throws<TunTapException>(() => Create(new LinkModelOptions { Reorder = 0.1 }));
        Assert.StartsWith("--reorder:", e.Message);
    }
}
