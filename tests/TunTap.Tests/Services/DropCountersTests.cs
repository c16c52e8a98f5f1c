using TunTap.Services;
using TunTap.Switching;
using TunTap.Switching.Dhcp;
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

    [Fact]
    public void Reasons_print_in_lower_case_with_dashes_like_every_other_counter()
    {
        Assert.Equal("link-down", DropReasonNames.Of(TunnelDropReason.LinkDown));
        Assert.Equal("malformed", DropReasonNames.Of(TunnelDropReason.Malformed));
        Assert.Equal("bad-ip-or-udp", DropReasonNames.Of(DhcpDropReason.BadIpOrUdp));
        Assert.Equal("no-vni-flag", DropReasonNames.Of(VxlanDropReason.NoVniFlag));
        Assert.Equal("99", DropReasonNames.Of((TunnelDropReason)99));
    }

    [Fact]
    public void Rows_are_added_for_the_reasons_with_drops_only_in_the_enums_order()
    {
        var counters = new DropCounters<SwitchDropReason>();
        counters.Count(SwitchDropReason.MirrorDestination, 3);
        counters.Count(SwitchDropReason.VlanNotAllowed);
        var rows = new List<(string Label, long Value)> { ("dropped", counters.Total) };

        DropReasonNames.AddRows<SwitchDropReason>(rows, "dropped", counters.Get);

        Assert.Equal([("dropped", 4L), ("dropped vlan-not-allowed", 1L), ("dropped mirror-destination", 3L)], rows);
    }
}
