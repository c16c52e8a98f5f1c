using TunTap.Emulation;
using TunTap.TestKit;
using TunTap.Tests.Tunnel;

namespace TunTap.Tests.Emulation;

[Collection(nameof(AllocationMeasurement))]
public sealed class EmulatedLinkAllocationTests
{
    [Theory]
    [InlineData("")]
    [InlineData("delay 1ms 200us loss 5% duplicate 1% rate 10gbit")]
    public async Task Steady_state_emulation_allocates_almost_nothing_per_packet(string spec)
    {
        const int Warmup = 20_000;
        const int Measured = 100_000;
        EmulatedLink? running = null;

        // Like a kernel that cannot queue unboundedly: the source waits while many packets are inside the link.
        var source = new SyntheticTun(maxPerBatch: 16, mayProduce: () => running is null || running.AToB.Model.Counters.InFlightPackets + running.AToB.Model.Counters.Delivered - running.AToB.Counters.WrittenPackets < 512);
        var sink = new SyntheticTun();
        var time = TimeProvider.System;
        using var link = new EmulatedLink(source, sink, LinkModel.Create(LinkSpecParser.Parse(spec), time, 1), LinkModel.Create(new LinkModelOptions(), time, 2));
        running = link;
        using var stop = new CancellationTokenSource();
        var run = link.RunAsync(stop.Token);
        try
        {
            source.Release(Warmup);
            await TestKit.Wait.UntilAsync(() => Handled(link) >= Warmup, TimeSpan.FromSeconds(30), () => $"handled {Handled(link)}");
            // The counter is process-wide: the best of up to three rounds counts. A steady per-packet
            // allocation shows in every round; one-off runtime work (tier-up re-JIT) lands in one.
            var handled = (long)Warmup;
            var best = long.MaxValue;
            for (var round = 0; round < 3 && (double)best / Measured >= 1.0; round++)
            {
                await Task.Delay(200, TestContext.Current.CancellationToken);
                var before = GC.GetTotalAllocatedBytes(precise: true);
                source.Release(Measured);
                handled += Measured;
                TestKit.Wait.Until(() => Handled(link) >= handled, TimeSpan.FromSeconds(60), () => $"handled {Handled(link)}");
                best = Math.Min(best, GC.GetTotalAllocatedBytes(precise: true) - before);
            }

            Assert.True(sink.Written > Measured / 2, $"only {sink.Written} packets arrived");
            var perPacket = (double)best / Measured;
            Assert.True(perPacket < 1.0, $"{best} bytes allocated for {Measured} packets ({perPacket:0.00} per packet) in the best of three rounds");
        }
        finally
        {
            await stop.CancelAsync();
            await run.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Packets offered so far, once every one of them has left the link (written or dropped); -1 before that.</summary>
    private static long Handled(EmulatedLink link)
    {
        long enqueued = 0, inFlight = 0, delivered = 0;
        link.AToB.ReadModelCounters(c => (enqueued, inFlight, delivered) = (c.Enqueued, c.InFlightPackets, c.Delivered));
        return inFlight == 0 && link.AToB.Counters.WrittenPackets == delivered ? enqueued : -1;
    }
}
