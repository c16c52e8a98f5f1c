using TunTap.Emulation;
using static TunTap.Tests.Emulation.LinkHarness;

namespace TunTap.Tests.Emulation;

public sealed class DelayTraceTests
{
    [Fact]
    public void Each_packet_gets_the_delay_of_its_time_step_and_order_is_kept()
    {
        var trace = DelayTrace.Parse("# one step per 100 ms\n50\n10\n30\n", TimeSpan.FromMilliseconds(100));
        var model = Create(new LinkModelOptions { DelayTrace = trace });
        var delivered = Run(model, [(Ms(0), 100), (Ms(95), 100), (Ms(100), 100), (Ms(250), 100), (Ms(310), 100)]);

        // The packet at 100 ms would leave at 110 ms but waits for the one before (145 ms).
        Assert.Equal([Ms(50), Ms(145), Ms(145), Ms(280), Ms(360)], delivered.Select(d => d.Departure));
    }

    [Fact]
    public void A_delay_trace_played_once_holds_its_last_value()
    {
        var trace = DelayTrace.FromMilliseconds([5, 20], TimeSpan.FromMilliseconds(10));
        var model = Create(new LinkModelOptions { DelayTrace = trace, DelayTraceLoop = false });
        var delivered = Run(model, [(Ms(1000), 100)]);
        Assert.Equal(Ms(1020), delivered[0].Departure);
    }

    [Theory]
    [InlineData("5\nfast\n", "delay trace line 2: 'fast' is not a delay in milliseconds (0-3600000)")]
    [InlineData("-1\n", "delay trace line 1: '-1' is not a delay in milliseconds (0-3600000)")]
    [InlineData("# nothing\n", "delay trace: no delays found")]
    public void Malformed_delay_traces_name_the_line(string text, string message)
    {
        var e = Assert.Throws<TunTapException>(() => DelayTrace.Parse(text, TimeSpan.FromMilliseconds(1)));
        Assert.Equal(message, e.Message);
    }
}
