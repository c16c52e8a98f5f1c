using CsCheck;
using TunTap.Emulation;

namespace TunTap.Tests.Emulation;

public sealed class LinkSpecParserTests
{
    [Fact]
    public void Parses_a_full_netem_like_spec()
    {
        var options = LinkSpecParser.Parse("delay 50ms 10ms 25% distribution normal loss 1% rate 10mbit limit 1000 duplicate 0.5 corrupt 0.1% 5% reorder 25% 50% gap 5 keep-order");
        Assert.Equal(TimeSpan.FromMilliseconds(50), options.Delay);
        Assert.Equal(TimeSpan.FromMilliseconds(10), options.Jitter);
        Assert.Equal(0.25, options.DelayCorrelation, 12);
        Assert.Equal(DelayDistribution.Normal, options.Distribution);
        Assert.Equal(new RandomLossOptions(0.01), options.Loss);
        Assert.Equal(10_000_000, options.RateBitsPerSecond);
        Assert.Equal(1000, options.Limit);
        Assert.Equal(0.005, options.Duplicate, 12);
        Assert.Equal(0.001, options.Corrupt, 12);
        Assert.Equal(0.05, options.CorruptCorrelation, 12);
        Assert.Equal(0.25, options.Reorder, 12);
        Assert.Equal(0.5, options.ReorderCorrelation, 12);
        Assert.Equal(5, options.ReorderGap);
        Assert.True(options.KeepOrder);
    }

    [Fact]
    public void Parses_loss_models_rate_overheads_queues_and_slots()
    {
        var ge = LinkSpecParser.Parse("loss gemodel 1% 10% 70% 0.1%");
        Assert.Equal(new GilbertElliottLossOptions(0.01, 0.1, 0.7, 0.001), ge.Loss);
        var state = LinkSpecParser.Parse("loss state 5% 50%");
        Assert.Equal(new FourStateLossOptions(0.05, 0.5), state.Loss);

        var rate = LinkSpecParser.Parse("rate 1.5mbps -14 53 5 queue-bytes 64kb codel target 10ms interval 200ms");
        Assert.Equal(12_000_000, rate.RateBitsPerSecond);
        Assert.Equal((-14, 53, 5), (rate.PacketOverhead, rate.CellSize, rate.CellOverhead));
        Assert.Equal(65536, rate.QueueLimitBytes);
        Assert.Equal(QueueDiscipline.CoDel, rate.QueueDiscipline);
        Assert.Equal(TimeSpan.FromMilliseconds(10), rate.CoDelTarget);
        Assert.Equal(TimeSpan.FromMilliseconds(200), rate.CoDelInterval);

        var slot = LinkSpecParser.Parse("slot 800us 2ms packets 4 bytes 3kb queue 50 rate 100kbit");
        Assert.Equal(new SlotOptions(TimeSpan.FromMicroseconds(800), TimeSpan.FromMilliseconds(2), 4, 3072), slot.Slot);
        Assert.Equal(50, slot.QueueLimitPackets);
    }

    [Fact]
    public void Reads_traces_through_the_given_reader()
    {
        var files = new Dictionary<string, string> { ["up.trace"] = "1\n2\n3\n", ["rtt.txt"] = "10\n20\n" };
        var options = LinkSpecParser.Parse("trace up.trace once delay-trace rtt.txt step 100ms", p => files[p]);
        Assert.Equal(3, options.Trace!.Count);
        Assert.False(options.TraceLoop);
        Assert.Equal(TimeSpan.FromMilliseconds(100), options.DelayTrace!.Step);
        Assert.True(options.DelayTraceLoop);

        var e = Assert.Throws<TunTapException>(() => LinkSpecParser.Parse("trace bad.trace", _ => "1\n0\n"));
        Assert.Equal("bad.trace: trace line 2: 0 is before the previous timestamp 1", e.Message);
    }

    [Theory]
    [InlineData("delay fast", "link spec: 'fast' after 'delay' is not a time; use a number with us, ms or s (e.g. 50ms)")]
    [InlineData("delay 50", "link spec: '50' after 'delay' is not a time; use a number with us, ms or s (e.g. 50ms)")]
    [InlineData("rate 10mbits", "link spec: '10mbits' after 'rate' is not a rate; use bit, kbit, mbit, gbit (e.g. 10mbit) or bps, kbps, mbps, gbps for bytes/s")]
    [InlineData("loss", "link spec: 'loss' needs a percentage (e.g. 1%)")]
    [InlineData("distribution weird", "link spec: 'weird' after 'distribution' is not a distribution; allowed uniform, normal, pareto, paretonormal")]
    [InlineData("jitter 5ms", "link spec: unknown option 'jitter'")]
    [InlineData("loss 150%", "--loss: 150% is out of range; allowed 0-100%")]
    [InlineData("delay 10ms 1ms 120%", "--delay correlation: 120% is out of range; allowed 0-100%")]
    [InlineData("reorder 10%", "--reorder: reordering needs a delay")]
    public void Mistakes_name_the_token_or_option(string spec, string message)
    {
        var e = Assert.Throws<TunTapException>(() => LinkSpecParser.Parse(spec));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Random_specs_only_ever_fail_with_TunTapException()
    {
        var word = Gen.OneOf(
            Gen.OneOf<string>("delay", "loss", "rate", "slot", "codel", "queue", "reorder", "gap", "gemodel", "state", "limit", "corrupt", "duplicate", "distribution", "normal", "packets", "bytes", "target"),
            Gen.OneOf<string>("10ms", "5", "1%", "-3", "200%", "1.5mbit", "64kb", "x", "0", "99999999999999999999", "1e5ms", ".", "%"));
        word.Array[0, 12].Select(w => string.Join(' ', w)).Sample(spec =>
        {
            try
            {
                LinkSpecParser.Parse(spec, _ => "1\n");
            }
            catch (TunTapException)
            {
            }
        }, iter: 5000);
    }
}
