using TunTap.Emulation;
using static TunTap.Tests.Emulation.LinkHarness;

namespace TunTap.Tests.Emulation;

public sealed class SlotStageTests
{
    [Fact]
    public void Packets_leave_in_bursts_of_at_most_the_slot_packets()
    {
        var model = Create(new LinkModelOptions { Slot = new SlotOptions(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(10), MaxPackets: 2) });
        var delivered = Run(model, Enumerable.Repeat((Ms(1), 100), 5));
        Assert.Equal([Ms(11), Ms(11), Ms(21), Ms(21), Ms(31)], delivered.Select(d => d.Departure));
    }

    [Fact]
    public void Slot_bytes_end_a_slot_after_the_packet_that_exhausts_them()
    {
        var model = Create(new LinkModelOptions { Slot = new SlotOptions(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(10), MaxBytes: 1500) });
        var delivered = Run(model, Enumerable.Repeat((Ms(1), 1000), 4));
        Assert.Equal([Ms(11), Ms(11), Ms(21), Ms(21)], delivered.Select(d => d.Departure));
    }

    [Fact]
    public void Slot_delays_are_drawn_between_min_and_max()
    {
        var model = Create(new LinkModelOptions { Slot = new SlotOptions(TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(15), MaxPackets: 1) });
        var delivered = Run(model, Enumerable.Repeat((0L, 100), 2000).Select((a, i) => (a.Item1 + 1, a.Item2)));
        var gaps = delivered.Zip(delivered.Skip(1)).Select(p => p.Second.Departure - p.First.Departure).ToList();
        Assert.InRange(gaps.Min(), Ms(5), Ms(5.1));
        Assert.InRange(gaps.Max(), Ms(14.9), Ms(15));
        Assert.InRange(gaps.Average(), Ms(9.7), Ms(10.3));
    }

    [Fact]
    public void A_packet_ready_after_a_slot_opened_waits_for_a_new_slot()
    {
        var model = Create(new LinkModelOptions { Slot = new SlotOptions(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(10)) });
        var delivered = Run(model, [(Ms(1), 100), (Ms(50), 100)]);
        Assert.Equal([Ms(11), Ms(60)], delivered.Select(d => d.Departure));
    }
}
