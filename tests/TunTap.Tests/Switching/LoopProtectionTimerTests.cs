using Microsoft.Extensions.Time.Testing;
using TunTap.Devices;
using TunTap.Switching;
using TunTap.TestKit;
using TunTap.Wire;
using static TunTap.Tests.Switching.SwitchFrames;

namespace TunTap.Tests.Switching;

public sealed class LoopProtectionTimerTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public void A_flapping_port_is_unblocked_after_the_block_time_and_blocked_again_while_the_loop_persists()
    {
        var log = new List<string>();
        var options = new SwitchOptions { FlapThreshold = 5, BlockTime = TimeSpan.FromSeconds(30), Log = log.Add };
        var fabric = Switch(_time, options, PortVlan.Default, PortVlan.Default, PortVlan.Default);
        var decision = fabric.CreateDecision();
        var blocked = FlapUntilBlocked(fabric, decision);
        Assert.Contains($"port p{blocked} blocked: MAC flapping", log[^1], StringComparison.Ordinal);
        Assert.Contains("unblocked in 30 s", log[^1], StringComparison.Ordinal);

        // Not yet: 29 s later frames from it are still dropped.
        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(0, fabric.ReleaseExpiredBlocks());
        Assert.Equal(ForwardingAction.Dropped, fabric.Forward(blocked, Frame(MacAddress.Broadcast, Mac(7)), decision));
        Assert.True(fabric.IsBlocked(blocked));

        // A frame on another port after the block time lets it go, with a log line.
        _time.Advance(TimeSpan.FromSeconds(1.5));
        fabric.Forward(2, Frame(MacAddress.Broadcast, Mac(3)), decision);
        Assert.False(fabric.IsBlocked(blocked));
        Assert.Contains(blocked, Egress(decision));
        Assert.Contains($"port p{blocked} unblocked after 30 s", log[^1], StringComparison.Ordinal);

        // The loop is still there: blocked again, and the log says it is not the first time.
        var again = FlapUntilBlocked(fabric, decision);
        Assert.Contains($"port p{again} blocked: MAC flapping", log[^1], StringComparison.Ordinal);
        Assert.Contains("blocked 2 times so far", log[^1], StringComparison.Ordinal);
        Assert.Equal(3, log.Count);
    }

    [Fact]
    public void A_storm_blocked_port_is_released_by_the_timer_call_even_when_no_frame_passes()
    {
        var log = new List<string>();
        var options = new SwitchOptions { StormThreshold = 50, BlockTime = TimeSpan.FromSeconds(10), Log = log.Add };
        var fabric = Switch(_time, options, PortVlan.Default, PortVlan.Default);
        var decision = fabric.CreateDecision();
        for (var i = 0; i <= 50; i++)
        {
            fabric.Forward(0, Frame(MacAddress.Broadcast, Mac(1)), decision);
        }

        Assert.True(fabric.IsBlocked(0));
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(1, fabric.ReleaseExpiredBlocks());
        Assert.False(fabric.IsBlocked(0));
        Assert.Equal(0, fabric.ReleaseExpiredBlocks());
        Assert.Equal(ForwardingAction.Flooded, fabric.Forward(0, Frame(MacAddress.Broadcast, Mac(1)), decision));
        Assert.Equal(2, log.Count);
    }

    [Fact]
    public void With_block_time_zero_and_for_manual_blocks_the_port_stays_blocked()
    {
        var fabric = Switch(_time, new SwitchOptions { StormThreshold = 10, BlockTime = TimeSpan.Zero }, PortVlan.Default, PortVlan.Default);
        var decision = fabric.CreateDecision();
        for (var i = 0; i <= 10; i++)
        {
            fabric.Forward(0, Frame(MacAddress.Broadcast, Mac(1)), decision);
        }

        fabric.Block(1, "by hand");
        _time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(0, fabric.ReleaseExpiredBlocks());
        Assert.True(fabric.IsBlocked(0));
        Assert.True(fabric.IsBlocked(1));

        var timed = Switch(_time, new SwitchOptions { BlockTime = TimeSpan.FromSeconds(1) }, PortVlan.Default);
        timed.Block(0, "by hand");
        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(0, timed.ReleaseExpiredBlocks());
        Assert.True(timed.IsBlocked(0));
    }

    [Fact]
    public async Task The_runner_timer_unblocks_a_port_that_receives_nothing()
    {
        var fabric = new LearningSwitch(new SwitchOptions { StormThreshold = 20, BlockTime = TimeSpan.FromSeconds(30) }, _time);
        await using var runner = new SwitchRunner(fabric, time: _time);
        var a = new ChannelTun("a", DeviceMode.Tap);
        var b = new ChannelTun("b", DeviceMode.Tap);
        var stormy = runner.AddPort(new TapPort(a), new SwitchPortConfig { Name = "a" });
        runner.AddPort(new TapPort(b), new SwitchPortConfig { Name = "b" });
        for (var i = 0; i < 25; i++)
        {
            a.Inject(Frame(MacAddress.Broadcast, Mac(1)));
        }

        // All 25 through the switch (20 flooded, 5 dropped while blocked) before time moves on.
        await Wait.UntilAsync(() => runner.Switch.GetCounters(stormy).ReceivedFrames == 25, TimeSpan.FromSeconds(10));
        Assert.NotNull(runner.ListPorts()[stormy].BlockReason);
        Assert.Equal(5, runner.Switch.GetCounters(stormy).GetDropped(SwitchDropReason.Blocked));
        _time.Advance(TimeSpan.FromSeconds(31));
        await Wait.UntilAsync(() => runner.ListPorts()[stormy].BlockReason is null, TimeSpan.FromSeconds(10));

        // Forwarding again: a frame from it reaches the other port (after the 20 flooded before the block).
        var unicast = Frame(Mac(2), Mac(1));
        a.Inject(unicast);
        var seen = new List<byte[]>();
        for (var i = 0; i < 21 && (seen.Count == 0 || !seen[^1].AsSpan().SequenceEqual(unicast)); i++)
        {
            seen.Add(await b.ReadWrittenAsync(TimeSpan.FromSeconds(10)));
        }

        Assert.Equal(unicast, seen[^1]);
        Assert.Equal(21, seen.Count);
    }

    /// <summary>Moves MAC 1 back and forth between ports 0 and 1 until one is blocked; returns it.</summary>
    private int FlapUntilBlocked(LearningSwitch fabric, ForwardingDecision decision)
    {
        for (var i = 0; i < 100; i++)
        {
            fabric.Forward(i % 2, Frame(MacAddress.Broadcast, Mac(1)), decision);
            _time.Advance(TimeSpan.FromMilliseconds(10));
            if (fabric.IsBlocked(0) || fabric.IsBlocked(1))
            {
                return fabric.IsBlocked(0) ? 0 : 1;
            }
        }

        throw new InvalidOperationException("no port was blocked");
    }
}
