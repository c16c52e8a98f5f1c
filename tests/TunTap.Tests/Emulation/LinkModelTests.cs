using CsCheck;
using Microsoft.Extensions.Time.Testing;
using TunTap.Emulation;
using static TunTap.Tests.Emulation.LinkHarness;

namespace TunTap.Tests.Emulation;

public sealed class LinkModelTests
{
    private static readonly LinkModelOptions Everything = new()
    {
        Delay = TimeSpan.FromMilliseconds(20),
        Jitter = TimeSpan.FromMilliseconds(5),
        Distribution = DelayDistribution.Normal,
        DelayCorrelation = 0.25,
        Loss = new GilbertElliottLossOptions(0.02, 0.3),
        Duplicate = 0.02,
        Corrupt = 0.05,
        Reorder = 0.05,
        ReorderGap = 3,
        RateBitsPerSecond = 5_000_000,
        QueueDiscipline = QueueDiscipline.CoDel,
    };

    private static List<(long, int)> Arrivals(int count, ulong seed)
    {
        var random = new LinkRandom(seed);
        var time = 0L;
        var list = new List<(long, int)>();
        for (var i = 0; i < count; i++)
        {
            time += random.NextLong(Ms(3));
            list.Add((time, 40 + random.NextInt(1460)));
        }

        return list;
    }

    private static string Fingerprint(List<Delivery> delivered)
        => string.Join(';', delivered.Select(d => $"{d.Sequence}@{d.Departure}:{Convert.ToHexString(d.Bytes)}"));

    [Fact]
    public void Same_seed_and_input_give_identical_output()
    {
        var arrivals = Arrivals(5000, 1);
        var first = Run(Create(Everything, seed: 99), arrivals, keepBytes: true);
        var second = Run(Create(Everything, seed: 99), arrivals, keepBytes: true);
        Assert.Equal(Fingerprint(first), Fingerprint(second));

        var other = Run(Create(Everything, seed: 100), arrivals, keepBytes: true);
        Assert.NotEqual(Fingerprint(first), Fingerprint(other));
    }

    [Fact]
    public void Departures_do_not_depend_on_when_the_caller_polls()
    {
        Gen.Select(Gen.Long[0, Ms(5)].Select(Gen.Int[1, 1500]).Array[1, 150], Gen.ULong, Gen.Long[1, Ms(30)])
            .Sample((raw, seed, pollEvery) =>
            {
                var arrivals = new List<(long, int)>();
                var time = 0L;
                foreach (var (gap, size) in raw)
                {
                    time += gap;
                    arrivals.Add((time, size));
                }

                var exact = Run(Create(Everything, seed), arrivals, keepBytes: true);

                // A sloppy driver: polls on a fixed period instead of at NextDeparture.
                var model = Create(Everything, seed);
                var polled = new List<Delivery>();
                var next = 0;
                for (var now = 0L; next < arrivals.Count || model.NextDeparture is not null; now += pollEvery)
                {
                    while (next < arrivals.Count && arrivals[next].Item1 <= now)
                    {
                        var (at, size) = arrivals[next++];
                        var bytes = new byte[size];
                        for (var i = 0; i < size; i++)
                        {
                            bytes[i] = (byte)(i * 7);
                        }

                        model.Enqueue(bytes, at);
                    }

                    while (model.TryDequeue(now, out var packet))
                    {
                        Assert.True(packet.DepartureTicks <= now, "delivered before its departure time");
                        Assert.True(packet.DepartureTicks >= packet.ArrivalTicks, "left before it arrived");
                        polled.Add(new Delivery(packet.Sequence, packet.ArrivalTicks, packet.DepartureTicks, packet.Length, packet.Span.ToArray()));
                        model.Release(packet);
                    }

                    Assert.True(now < Ms(100_000), "the link did not drain");
                }

                Assert.Equal(Fingerprint(exact), Fingerprint(polled));
            }, iter: 100);
    }

    [Fact]
    public void Nothing_is_delivered_before_its_time_and_counters_balance()
    {
        Gen.Select(Gen.Long[0, Ms(5)].Select(Gen.Int[1, 1500]).Array[1, 200], Gen.ULong, Gen.Int[0, 40])
            .Sample((raw, seed, delayMs) =>
            {
                var options = Everything with { Delay = TimeSpan.FromMilliseconds(delayMs), Jitter = TimeSpan.Zero, Reorder = 0, Slot = new SlotOptions(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(4), MaxPackets: 3) };
                var model = Create(options, seed);
                var time = 0L;
                var arrivals = raw.Select(a => (time += a.Item1, a.Item2)).ToList();
                var delivered = Run(model, arrivals);
                
                // Without jitter or reordering, every packet spends at least the delay plus its serialization time.
                Assert.All(delivered, d => Assert.True(d.Departure >= d.Arrival + Ms(delayMs) + (d.Length * 8L * Frequency / 5_000_000) - 1));
                Assert.Equal(model.Counters.Enqueued + model.Counters.Duplicated, model.Counters.Delivered + model.Counters.DroppedTotal);
                Assert.Equal(0, model.Counters.InFlightPackets);
                Assert.Equal(0, model.Counters.QueuePackets);
            }, iter: 100);
    }

    [Fact]
    public void A_perfect_link_delivers_at_once_and_in_order()
    {
        var model = Create(new LinkModelOptions());
        var delivered = Run(model, Periodic(100, 3));
        Assert.All(delivered, d => Assert.Equal(d.Arrival, d.Departure));
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (long)i), delivered.Select(d => d.Sequence));
    }

    [Fact]
    public void Works_with_a_fake_time_provider()
    {
        var time = new FakeTimeProvider();
        var model = LinkModel.Create(new LinkModelOptions { Delay = TimeSpan.FromMilliseconds(30) }, time, seed: 1);
        model.Enqueue([1, 2, 3], time.GetTimestamp());
        Assert.Equal(time.GetTimestamp() + (30 * time.TimestampFrequency / 1000), model.NextDeparture);
        time.Advance(TimeSpan.FromMilliseconds(29));
        Assert.False(model.TryDequeue(time.GetTimestamp(), out _));
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(model.TryDequeue(time.GetTimestamp(), out var packet));
        Assert.Equal(new byte[] { 1, 2, 3 }, packet.Span.ToArray());
        model.Release(packet);
        Assert.Null(model.NextDeparture);
    }

    [Fact]
    public void Time_going_backwards_is_a_programming_error()
    {
        var model = Create(new LinkModelOptions());
        model.Enqueue([1], 100);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Enqueue([1], 99));
    }

    [Fact]
    public void Rate_and_trace_together_are_rejected()
    {
        var e = Assert.Throws<TunTapException>(() => Create(new LinkModelOptions { RateBitsPerSecond = 1000, Trace = MahimahiTrace.Parse("1\n") }));
        Assert.StartsWith("--rate:", e.Message);
    }

    [Fact]
    public void Steady_state_allocates_nothing_per_packet()
    {
        var model = Create(Everything with { Corrupt = 0, Duplicate = 0 });
        var packet = new byte[1000];
        var now = 0L;
        void Cycle(int n)
        {
            for (var i = 0; i < n; i++)
            {
                now += Ms(2);
                model.Enqueue(packet, now);
                while (model.TryDequeue(now, out var p))
                {
                    model.Release(p);
                }
            }
        }

        Cycle(20_000);

        // Best of five rounds: a gen-2 collection caused by tests running in parallel trims the
        // shared array pool, and the next rent allocates once; steady state is a round without that.
        var best = long.MaxValue;
        for (var round = 0; round < 5 && best != 0; round++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            Cycle(20_000);
            best = Math.Min(best, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(0, best);
    }
}
