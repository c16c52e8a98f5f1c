using CsCheck;
using TunTap.Emulation;
using static TunTap.Tests.Emulation.LinkHarness;

namespace TunTap.Tests.Emulation;

public sealed class RateLimitStageTests
{
    [Fact]
    public void Departures_follow_size_times_8_over_rate()
    {
        // 1 Mbit/s: a 1000-byte packet takes 8 ms.
        var model = Create(new LinkModelOptions { RateBitsPerSecond = 1_000_000, QueueLimitPackets = 100 });
        var delivered = Run(model, Enumerable.Repeat((0L, 1000), 10));
        Assert.Equal(Enumerable.Range(1, 10).Select(i => Ms(8 * i)), delivered.Select(d => d.Departure));
    }

    [Fact]
    public void An_idle_link_sends_a_packet_after_its_own_serialization_time()
    {
        var model = Create(new LinkModelOptions { RateBitsPerSecond = 1_000_000 });
        var delivered = Run(model, [(Ms(100), 500), (Ms(200), 250)]);
        Assert.Equal([Ms(104), Ms(202)], delivered.Select(d => d.Departure));
    }

    [Fact]
    public void Overhead_and_cells_count_like_netem()
    {
        // 100 bytes + 24 overhead = 124 → 3 cells of 53 → 3 × (53 + 5) = 174 bytes = 1392 µs at 1 Mbit/s.
        var model = Create(new LinkModelOptions { RateBitsPerSecond = 1_000_000, PacketOverhead = 24, CellSize = 53, CellOverhead = 5 });
        var delivered = Run(model, Enumerable.Repeat((0L, 100), 3));
        Assert.Equal([1392L, 2784, 4176], delivered.Select(d => d.Departure));
    }

    [Fact]
    public void Negative_overhead_discounts_bytes()
    {
        var model = Create(new LinkModelOptions { RateBitsPerSecond = 8_000_000, PacketOverhead = -14 });
        var delivered = Run(model, [(0L, 1014)]);
        Assert.Equal(1000, delivered[0].Departure); // 1000 bytes at 1 byte/µs
    }

    [Fact]
    public void Fractional_serialization_times_keep_the_exact_long_run_rate()
    {
        // 3 Mbit/s: 100 bytes = 266.67 µs; after 3000 packets exactly 800 ms.
        var model = Create(new LinkModelOptions { RateBitsPerSecond = 3_000_000, QueueLimitPackets = 5000 });
        var delivered = Run(model, Enumerable.Repeat((0L, 100), 3000));
        Assert.Equal(Ms(800), delivered[^1].Departure);
        Assert.All(delivered.Zip(delivered.Skip(1)), p => Assert.InRange(p.Second.Departure - p.First.Departure, 266, 267));
    }

    [Fact]
    public void Constant_delay_then_rate_matches_netem()
    {
        // netem: time_to_send = max(now + delay, last) + packet_time.
        var model = Create(new LinkModelOptions { Delay = TimeSpan.FromMilliseconds(10), RateBitsPerSecond = 1_000_000, QueueLimitPackets = 100 });
        var delivered = Run(model, [(0L, 1000), (Ms(1), 1000), (Ms(30), 1000)]);
        Assert.Equal([Ms(18), Ms(26), Ms(48)], delivered.Select(d => d.Departure));
    }

    [Fact]
    public void Queue_never_exceeds_its_limit()
    {
        Gen.Select(Gen.Int[1, 30], Gen.Long[0, 2000].Select(Gen.Int[1, 1500]).Array[1, 400], Gen.Bool)
            .Sample((limit, raw, inBytes) =>
            {
                var options = inBytes
                    ? new LinkModelOptions { RateBitsPerSecond = 2_000_000, QueueLimitBytes = limit * 1000L }
                    : new LinkModelOptions { RateBitsPerSecond = 2_000_000, QueueLimitPackets = limit };
                var model = Create(options);
                var time = 0L;
                var delivered = new List<Delivery>();
                foreach (var (gap, size) in raw)
                {
                    time += gap;
                    DrainBefore(model, time, delivered, false, inclusive: false);
                    model.Enqueue(new byte[size], time);
                    if (inBytes)
                    {
                        Assert.InRange(model.Counters.QueueBytes, 0, limit * 1000L);
                    }
                    else
                    {
                        Assert.InRange(model.Counters.QueuePackets, 0, limit);
                    }
                }

                DrainBefore(model, long.MaxValue, delivered, false, inclusive: true);
                Assert.Equal(raw.Length, delivered.Count + model.Counters.Dropped(DropReason.QueueFull));
            }, iter: 200);
    }

    [Fact]
    public void Default_queue_limit_is_one_bandwidth_delay_product()
    {
        // 10 Mbit/s with 50 ms one way: RTT 100 ms → 125000 bytes.
        Assert.Equal(125_000, LinkModelOptions.DefaultQueueLimitBytes(10_000_000, TimeSpan.FromMilliseconds(50)));
        Assert.Equal(16 * 1514, LinkModelOptions.DefaultQueueLimitBytes(1_000_000, TimeSpan.Zero));
        var model = Create(new LinkModelOptions { RateBitsPerSecond = 10_000_000, Delay = TimeSpan.FromMilliseconds(50) });
        var delivered = Run(model, Enumerable.Repeat((0L, 1000), 200));
        Assert.Equal(125 + 1, delivered.Count); // 125 queued plus the one on the wire
    }
}
