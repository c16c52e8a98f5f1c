using TunTap.Emulation;
using static TunTap.Tests.Emulation.LinkHarness;

namespace TunTap.Tests.Emulation;

public sealed class CoDelTests
{
    // 1 Mbit/s and 1000-byte packets: 8 ms each; arrivals every 7 ms overload it by 14%,
    // which an unresponsive sender keeps up: a standing queue.
    private static LinkModelOptions Link(QueueDiscipline discipline) => new()
    {
        RateBitsPerSecond = 1_000_000,
        QueueDiscipline = discipline,
        QueueLimitPackets = 200,
    };

    [Fact]
    public void CoDel_drops_under_a_standing_queue_and_keeps_delay_down()
    {
        var model = Create(Link(QueueDiscipline.CoDel));
        var delivered = Run(model, Periodic(3000, Ms(7), size: 1000));
        Assert.True(model.Counters.Dropped(DropReason.CoDel) > 200, $"CoDel dropped {model.Counters.Dropped(DropReason.CoDel)}");
        Assert.Equal(0, model.Counters.Dropped(DropReason.QueueFull));

        // After the first intervals the sojourn hovers around the target, far below a full queue.
        var late = delivered.Where(d => d.Arrival > Ms(15000)).Select(d => (d.Departure - d.Arrival) / 1000.0).ToList();
        Assert.True(late.Average() < 30, $"mean delay {late.Average()} ms");
    }

    [Fact]
    public void Drop_tail_fills_the_queue_and_drops_only_when_full()
    {
        var model = Create(Link(QueueDiscipline.DropTail));
        var delivered = Run(model, Periodic(3000, Ms(7), size: 1000));
        Assert.Equal(0, model.Counters.Dropped(DropReason.CoDel));
        Assert.True(model.Counters.Dropped(DropReason.QueueFull) > 100);
        var late = delivered.Where(d => d.Arrival > Ms(15000)).Select(d => (d.Departure - d.Arrival) / 1000.0).ToList();
        Assert.True(late.Average() > 1500, $"mean delay {late.Average()} ms"); // ~200 packets × 8 ms
    }

    [Fact]
    public void CoDel_does_not_drop_a_short_burst()
    {
        var model = Create(Link(QueueDiscipline.CoDel));
        var delivered = Run(model, Enumerable.Repeat((0L, 1000), 10));
        Assert.Equal(10, delivered.Count);
        Assert.Equal(0, model.Counters.DroppedTotal);
    }

    [Fact]
    public void CoDel_does_not_drop_when_the_queue_stays_below_target()
    {
        // Arrivals every 10 ms on an 8 ms link: no standing queue.
        var model = Create(Link(QueueDiscipline.CoDel));
        Run(model, Periodic(1000, Ms(10), size: 1000));
        Assert.Equal(0, model.Counters.DroppedTotal);
    }
}
