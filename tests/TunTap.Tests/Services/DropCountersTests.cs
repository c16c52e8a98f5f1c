using TunTap.Services;
using TunTap.Tunnel;

namespace TunTap.Tests.Services;

public sealed class DropCountersTests
{
    [Fact]
    public void Drop_counters_count_by_reason_and_total_them()
    {
        var counters = new DropCounters<TunnelDropReason>();
        counters.Count(TunnelDropReason.Malformed);
        counters.Count(TunnelDropReason.Malformed);
        counters.Count(TunnelDropReason.DeviceRejected, 5);

        Assert.Equal(2, counters.Get(TunnelDropReason.Malformed));
        Assert.Equal(5, counters.Get(TunnelDropReason.DeviceRejected));
        Assert.Equal(0, counters.Get(TunnelDropReason.LinkDown));
        Assert.Equal(0, counters.Get((TunnelDropReason)99));
        Assert.Equal(7, counters.Total);
    }

    [Fact]
    public async Task Drop_counters_lose_no_count_across_threads()
    {
        var counters = new DropCounters<TunnelDropReason>();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                counters.Count(TunnelDropReason.Oversize);
            }
        })));

        Assert.Equal(40_000, counters.Get(TunnelDropReason.Oversize));
        Assert.Equal(40_000, counters.Total);
    }
}
