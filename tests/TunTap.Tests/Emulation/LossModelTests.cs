using TunTap.Emulation;

namespace TunTap.Tests.Emulation;

public sealed class LossModelTests
{
    private const int Samples = 100_000;

    private static bool[] Draw(ILossModel model, int count = Samples, ulong seed = 3)
    {
        var random = new LinkRandom(seed);
        var lost = new bool[count];
        for (var i = 0; i < count; i++)
        {
            lost[i] = model.NextIsLost(random);
        }

        return lost;
    }

    private static List<int> Bursts(bool[] lost)
    {
        var bursts = new List<int>();
        var run = 0;
        foreach (var l in lost)
        {
            if (l)
            {
                run++;
            }
            else if (run > 0)
            {
                bursts.Add(run);
                run = 0;
            }
        }

        return bursts;
    }

    [Theory]
    [InlineData(0.01)]
    [InlineData(0.3)]
    public void Random_loss_rate_is_within_three_sigma(double p)
    {
        var lost = Draw(new RandomLoss(p)).Count(l => l);
        var sigma = Math.Sqrt(Samples * p * (1 - p));
        Assert.InRange(lost, (Samples * p) - (3 * sigma), (Samples * p) + (3 * sigma));
    }

    [Fact]
    public void Correlated_loss_keeps_its_rate_and_clusters_losses()
    {
        const double p = 0.1;
        const double rho = 0.5;
        var lost = Draw(new RandomLoss(p, rho));
        var rate = lost.Count(l => l) / (double)Samples;

        // A two-state chain with lag-1 correlation rho inflates the variance by (1+rho)/(1-rho).
        var sigma = Math.Sqrt(p * (1 - p) * (1 + rho) / (1 - rho) / Samples);
        Assert.InRange(rate, p - (3 * sigma), p + (3 * sigma));

        var afterLoss = 0;
        var lossAfterLoss = 0;
        for (var i = 1; i < lost.Length; i++)
        {
            if (lost[i - 1])
            {
                afterLoss++;
                lossAfterLoss += lost[i] ? 1 : 0;
            }
        }

        Assert.InRange(lossAfterLoss / (double)afterLoss, 0.52, 0.58); // p + rho(1-p) = 0.55
    }

    [Fact]
    public void Gilbert_mean_burst_length_is_one_over_r()
    {
        var model = new GilbertElliottLoss(p: 0.01, r: 0.25);
        var lost = Draw(model, 400_000);
        var bursts = Bursts(lost);
        Assert.InRange(bursts.Average(), 4 * 0.93, 4 * 1.07);
        Assert.InRange(lost.Count(l => l) / 400_000.0, model.StationaryLossRate * 0.93, model.StationaryLossRate * 1.07);
        Assert.Equal(0.01 / 0.26, model.StationaryLossRate, 12);
    }

    [Fact]
    public void Gilbert_elliott_loses_in_both_states_as_configured()
    {
        var model = new GilbertElliottLoss(p: 0.05, r: 0.2, oneMinusH: 0.6, oneMinusK: 0.02);
        var rate = Draw(model, 400_000).Count(l => l) / 400_000.0;
        var expected = (0.2 * 0.6) + (0.8 * 0.02);
        Assert.Equal(expected, model.StationaryLossRate, 12);
        Assert.InRange(rate, expected * 0.95, expected * 1.05);
    }

    [Fact]
    public void Gilbert_defaults_follow_tc()
    {
        var model = new GilbertElliottLoss(0.1);
        Assert.Equal(0.9, model.R, 12);
        Assert.Equal(1, model.OneMinusH);
        Assert.Equal(0, model.OneMinusK);
    }

    [Theory]
    [InlineData(0.05, 0.5, 0.2, 0.4, 0.02)]
    [InlineData(0.01, 0.3, 0.0, 1.0, 0.0)]
    [InlineData(0.0, 1.0, 0.0, 1.0, 0.05)]
    public void Four_state_loss_matches_the_stationary_formula(double p13, double p31, double p32, double p23, double p14)
    {
        var model = new FourStateLoss(p13, p31, p32, p23, p14);

        // Balance equations solved by hand: pi1 = 1 / (1 + p14 + p13/p31 + p13 p32 / (p31 p23)).
        var pi1 = 1 / (1 + p14 + (p13 / p31) + (p13 * p32 / (p31 * p23)));
        var expected = pi1 * (p14 + (p13 / p31));
        Assert.Equal(expected, model.StationaryLossRate, 9);
        var rate = Draw(model, 400_000).Count(l => l) / 400_000.0;
        Assert.InRange(rate, expected - 0.004, expected + 0.004);
    }

    [Fact]
    public void Four_state_isolated_losses_are_single()
    {
        var lost = Draw(new FourStateLoss(0, p14: 0.1));
        Assert.All(Bursts(lost), b => Assert.Equal(1, b));
    }

    [Theory]
    [InlineData(1.5, "--loss: 150% is out of range; allowed 0-100%")]
    [InlineData(-0.01, "--loss: -1% is out of range; allowed 0-100%")]
    public void Out_of_range_loss_names_the_option_and_range(double p, string message)
    {
        var e = Assert.Throws<TunTapException>(() => LinkModel.Create(new LinkModelOptions { Loss = new RandomLossOptions(p) }, 1000, 0, 1));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Four_state_rejects_probabilities_summing_above_one()
    {
        var e = Assert.Throws<TunTapException>(() => new FourStateLoss(0.7, p14: 0.5));
        Assert.StartsWith("--loss state: p13 + p14", e.Message);
    }

    [Fact]
    public void Loss_stage_drops_and_counts()
    {
        var model = LinkHarness.Create(new LinkModelOptions { Loss = new RandomLossOptions(0.2) });
        var delivered = LinkHarness.Run(model, LinkHarness.Periodic(10_000, 10));
        Assert.Equal(10_000, delivered.Count + model.Counters.Dropped(DropReason.Loss));
        Assert.InRange(model.Counters.Dropped(DropReason.Loss), 1800, 2200);
        Assert.Equal(0, model.Counters.InFlightPackets);
    }
}
