using Microsoft.Extensions.Time.Testing;
using TunTap.Switching;
using TunTap.Wire;
using static TunTap.Tests.Switching.SwitchFrames;

namespace TunTap.Tests.Switching;

public sealed class LearningSwitchTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Unknown_unicast_is_flooded_then_the_reply_teaches_the_switch_a_direct_path()
    {
        var fabric = Switch(_time, null, PortVlan.Default, PortVlan.Default, PortVlan.Default);
        var decision = fabric.CreateDecision();

        Assert.Equal(ForwardingAction.Flooded, fabric.Forward(0, Frame(Mac(2), Mac(1)), decision));
        Assert.Equal([1, 2], Egress(decision));

        // Mac(2) answers from port 1: Mac(1) is known on port 0 now.
        Assert.Equal(ForwardingAction.Unicast, fabric.Forward(1, Frame(Mac(1), Mac(2)), decision));
        Assert.Equal([0], Egress(decision));

        Assert.Equal(ForwardingAction.Unicast, fabric.Forward(0, Frame(Mac(2), Mac(1)), decision));
        Assert.Equal([1], Egress(decision));
        Assert.Equal(2, fabric.MacTable.Count);
        Assert.Equal(1, fabric.GetCounters(0).Flooded);
        Assert.Equal(2, fabric.GetCounters(0).ReceivedFrames);
        Assert.Equal(128, fabric.GetCounters(0).ReceivedBytes);
    }

    [Fact]
    public void Broadcast_and_multicast_are_flooded_even_when_the_address_was_seen_as_a_source()
    {
        var fabric = Switch(_time, null, PortVlan.Default, PortVlan.Default, PortVlan.Default);
        var decision = fabric.CreateDecision();
        Assert.Equal(ForwardingAction.Flooded, fabric.Forward(2, Frame(MacAddress.Broadcast, Mac(3)), decision));
        Assert.Equal([0, 1], Egress(decision));
        Assert.Equal(ForwardingAction.Flooded, fabric.Forward(0, Frame(MacAddress.FromValue(0x3333_0000_0001), Mac(1)), decision));
        Assert.Equal([1, 2], Egress(decision));
    }

    [Fact]
    public void A_frame_for_a_station_on_the_ingress_port_is_filtered()
    {
        var fabric = Switch(_time, null, PortVlan.Default, PortVlan.Default);
        var decision = fabric.CreateDecision();
        fabric.Forward(0, Frame(MacAddress.Broadcast, Mac(1)), decision);
        Assert.Equal(ForwardingAction.Filtered, fabric.Forward(0, Frame(Mac(1), Mac(5)), decision));
        Assert.True(decision.Ports.IsEmpty);
        Assert.Equal(1, fabric.GetCounters(0).Filtered);
    }

    [Fact]
    public void Addresses_age_out_after_the_aging_time_and_are_flooded_again()
    {
        var fabric = Switch(_time, new SwitchOptions { MacAgingTime = TimeSpan.FromSeconds(300) }, PortVlan.Default, PortVlan.Default, PortVlan.Default);
        var decision = fabric.CreateDecision();
        fabric.Forward(1, Frame(MacAddress.Broadcast, Mac(2)), decision);

        _time.Advance(TimeSpan.FromSeconds(299));
        Assert.Equal(ForwardingAction.Unicast, fabric.Forward(0, Frame(Mac(2), Mac(1)), decision));

        // Seen again: the age restarts.
        fabric.Forward(1, Frame(MacAddress.Broadcast, Mac(2)), decision);
        _time.Advance(TimeSpan.FromSeconds(299));
        Assert.Equal(ForwardingAction.Unicast, fabric.Forward(0, Frame(Mac(2), Mac(1)), decision));

        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(ForwardingAction.Flooded, fabric.Forward(0, Frame(Mac(2), Mac(1)), decision));
        Assert.Equal([1, 2], Egress(decision));
    }

    [Fact]
    public void The_periodic_sweep_frees_expired_entries_without_lookups()
    {
        var fabric = Switch(_time, new SwitchOptions { MacAgingTime = TimeSpan.FromSeconds(10) }, PortVlan.Default, PortVlan.Default);
        var decision = fabric.CreateDecision();
        for (var i = 1; i <= 50; i++)
        {
            fabric.Forward(0, Frame(MacAddress.Broadcast, Mac(i)), decision);
        }

        Assert.Equal(50, fabric.MacTable.Count);
        _time.Advance(TimeSpan.FromSeconds(11));
        fabric.Forward(1, Frame(MacAddress.Broadcast, Mac(1000)), decision);
        Assert.Equal(1, fabric.MacTable.Count);
        Assert.Equal(0, fabric.MacTable.CountOnPort(0));
    }

    [Fact]
    public void A_station_that_moves_is_followed_and_counted()
    {
        var fabric = Switch(_time, null, PortVlan.Default, PortVlan.Default, PortVlan.Default);
        var decision = fabric.CreateDecision();
        fabric.Forward(0, Frame(MacAddress.Broadcast, Mac(1)), decision);
        fabric.Forward(2, Frame(MacAddress.Broadcast, Mac(1)), decision);
        Assert.Equal(ForwardingAction.Unicast, fabric.Forward(1, Frame(Mac(1), Mac(7)), decision));
        Assert.Equal([2], Egress(decision));
        Assert.Equal(1, fabric.GetCounters(2).MacMoves);
        Assert.Equal(0, fabric.MacTable.CountOnPort(0));
        Assert.Equal(1, fabric.MacTable.CountOnPort(2));
        Assert.False(fabric.IsBlocked(2));
    }

    [Fact]
    public void Access_ports_in_different_vlans_never_see_each_other()
    {
        var fabric = Switch(_time, null, PortVlan.Access(10), PortVlan.Access(10), PortVlan.Access(20), PortVlan.Access(20));
        var decision = fabric.CreateDecision();
        Assert.Equal(ForwardingAction.Flooded, fabric.Forward(0, Frame(MacAddress.Broadcast, Mac(1)), decision));
        Assert.Equal([1], Egress(decision));
        Assert.Equal(ForwardingAction.Flooded, fabric.Forward(2, Frame(MacAddress.Broadcast, Mac(3)), decision));
        Assert.Equal([3], Egress(decision));

        // Mac(1) is known in VLAN 10 only: from VLAN 20 it is unknown and flooded within 20.
        Assert.Equal(ForwardingAction.Flooded, fabric.Forward(3, Frame(Mac(1), Mac(4)), decision));
        Assert.Equal([2], Egress(decision));
        Assert.Equal(20, decision.Vlan);
    }

    [Fact]
    public void Trunk_frames_get_a_tag_pushed_toward_the_trunk_and_popped_toward_access_ports()
    {
        var fabric = Switch(_time, null, PortVlan.Access(10), PortVlan.Access(20), PortVlan.Trunk([10, 20]));
        var decision = fabric.CreateDecision();

        var fromAccess = Frame(MacAddress.Broadcast, Mac(1), totalLength: 60);
        Assert.Equal(ForwardingAction.Flooded, fabric.Forward(0, fromAccess, decision));
        Assert.Equal([2], Egress(decision));
        var onTrunk = Out(fabric, 2, fromAccess, decision);
        Assert.Equal(64, onTrunk.Length);
        Assert.Equal((ushort)10, TagOf(onTrunk));
        Assert.Equal(fromAccess[..12], onTrunk[..12]);
        Assert.Equal(fromAccess[12..], onTrunk[16..]);

        var fromTrunk = Frame(Mac(1), Mac(9), vlan: 10, priority: 5, totalLength: 80);
        Assert.Equal(ForwardingAction.Unicast, fabric.Forward(2, fromTrunk, decision));
        Assert.Equal([0], Egress(decision));
        Assert.Equal(5, decision.Priority);
        var onAccess = Out(fabric, 0, fromTrunk, decision);
        Assert.Equal(76, onAccess.Length);
        Assert.Null(TagOf(onAccess));
        Assert.Equal(fromTrunk[16..], onAccess[12..]);

        var inTwenty = Frame(MacAddress.Broadcast, Mac(9), vlan: 20);
        fabric.Forward(2, inTwenty, decision);
        Assert.Equal([1], Egress(decision));
    }

    [Fact]
    public void Trunk_to_trunk_keeps_the_tag_and_priority_and_the_native_vlan_goes_untagged()
    {
        var fabric = Switch(_time, null, PortVlan.Trunk([10, 30], nativeVlan: 1), PortVlan.Trunk([10, 20], nativeVlan: 1), PortVlan.Access(1));
        var decision = fabric.CreateDecision();
        var tagged = Frame(MacAddress.Broadcast, Mac(1), vlan: 10, priority: 3);
        fabric.Forward(0, tagged, decision);
        Assert.Equal([1], Egress(decision));
        Assert.Equal(tagged, Out(fabric, 1, tagged, decision));

        var untagged = Frame(MacAddress.Broadcast, Mac(1));
        fabric.Forward(0, untagged, decision);
        Assert.Equal(1, decision.Vlan);
        Assert.Equal([1, 2], Egress(decision));
        Assert.Equal(untagged, Out(fabric, 1, untagged, decision));
        Assert.Equal(untagged, Out(fabric, 2, untagged, decision));
    }

    [Theory]
    [InlineData(0, (ushort)10)] // tagged on an access port
    [InlineData(1, (ushort)30)] // a VLAN the trunk does not carry
    [InlineData(1, (ushort)4095)] // reserved
    public void Frames_in_vlans_the_port_does_not_carry_are_dropped(int port, ushort vlan)
    {
        var fabric = Switch(_time, null, PortVlan.Access(10), PortVlan.Trunk([10, 20]), PortVlan.Access(30));
        var decision = fabric.CreateDecision();
        Assert.Equal(ForwardingAction.Dropped, fabric.Forward(port, Frame(MacAddress.Broadcast, Mac(1), vlan: vlan), decision));
        Assert.Equal(SwitchDropReason.VlanNotAllowed, decision.DropReason);
        Assert.Equal(1, fabric.GetCounters(port).GetDropped(SwitchDropReason.VlanNotAllowed));
        Assert.Equal(0, fabric.MacTable.Count);
    }

    [Fact]
    public void Untagged_frames_on_a_trunk_without_native_vlan_are_dropped_and_priority_tags_join_the_pvid()
    {
        var fabric = Switch(_time, null, PortVlan.Trunk([10]), PortVlan.Access(7), PortVlan.Access(7));
        var decision = fabric.CreateDecision();
        Assert.Equal(ForwardingAction.Dropped, fabric.Forward(0, Frame(MacAddress.Broadcast, Mac(1)), decision));
        Assert.Equal(SwitchDropReason.VlanNotAllowed, decision.DropReason);

        var priorityTagged = Frame(MacAddress.Broadcast, Mac(2), vlan: 0, priority: 6);
        Assert.Equal(ForwardingAction.Flooded, fabric.Forward(1, priorityTagged, decision));
        Assert.Equal(7, decision.Vlan);
        Assert.Equal([2], Egress(decision));
        var egress = Out(fabric, 2, priorityTagged, decision);
        Assert.Null(TagOf(egress));
        Assert.Equal(priorityTagged.Length - 4, egress.Length);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(13)]
    public void Runts_are_dropped(int length)
    {
        var fabric = Switch(_time, null, PortVlan.Default, PortVlan.Default);
        var decision = fabric.CreateDecision();
        Assert.Equal(ForwardingAction.Dropped, fabric.Forward(0, new byte[length], decision));
        Assert.Equal(SwitchDropReason.Runt, decision.DropReason);
        Assert.Equal(1, fabric.GetCounters(0).GetDropped(SwitchDropReason.Runt));
    }

    [Fact]
    public void A_tagged_header_cut_short_is_a_runt()
    {
        var fabric = Switch(_time, null, PortVlan.Trunk([5]), PortVlan.Trunk([5]));
        var decision = fabric.CreateDecision();
        var frame = Frame(MacAddress.Broadcast, Mac(1), vlan: 5)[..16];
        Assert.Equal(ForwardingAction.Dropped, fabric.Forward(0, frame, decision));
        Assert.Equal(SwitchDropReason.Runt, decision.DropReason);
    }

    [Fact]
    public void Oversized_frames_are_dropped_and_the_limit_itself_passes()
    {
        var fabric = Switch(_time, new SwitchOptions { MaxFrameSize = 1518 }, PortVlan.Default, PortVlan.Default);
        var decision = fabric.CreateDecision();
        Assert.Equal(ForwardingAction.Flooded, fabric.Forward(0, Frame(MacAddress.Broadcast, Mac(1), totalLength: 1518), decision));
        Assert.Equal(ForwardingAction.Dropped, fabric.Forward(0, Frame(MacAddress.Broadcast, Mac(1), totalLength: 1519), decision));
        Assert.Equal(SwitchDropReason.Oversize, decision.DropReason);
    }

    [Fact]
    public void Multicast_or_zero_sources_and_reserved_destinations_are_dropped()
    {
        var fabric = Switch(_time, null, PortVlan.Default, PortVlan.Default);
        var decision = fabric.CreateDecision();
        fabric.Forward(0, Frame(MacAddress.Broadcast, MacAddress.Broadcast), decision);
        Assert.Equal(SwitchDropReason.InvalidSource, decision.DropReason);
        fabric.Forward(0, Frame(MacAddress.Broadcast, MacAddress.FromValue(0)), decision);
        Assert.Equal(SwitchDropReason.InvalidSource, decision.DropReason);
        fabric.Forward(0, Frame(MacAddress.FromValue(0x0180_C200_0000), Mac(1)), decision);
        Assert.Equal(SwitchDropReason.Reserved, decision.DropReason);
        Assert.Equal(3, fabric.GetCounters(0).Dropped);
        Assert.Equal(0, fabric.MacTable.Count);
    }

    [Fact]
    public void A_flood_of_100000_random_sources_stays_within_the_limits_and_still_reaches_the_stations()
    {
        var options = new SwitchOptions { MacTableCapacity = 2000, DefaultPortMacLimit = 500, StormThreshold = 0 };
        var fabric = Switch(_time, options, PortVlan.Default, PortVlan.Default, PortVlan.Default);
        var decision = fabric.CreateDecision();
        fabric.Forward(2, Frame(MacAddress.Broadcast, Mac(0xABCDEF)), decision);

        var random = new Random(1234);
        var frame = Frame(Mac(0xABCDEF), Mac(1));
        var unicast = 0;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100_000; i++)
        {
            var source = MacAddress.FromValue(((ulong)random.NextInt64() & 0xFEFF_FFFF_FFFFUL) | 0x0200_0000_0000UL);
            source.WriteTo(frame.AsSpan(6));
            if (fabric.Forward(0, frame, decision) == ForwardingAction.Unicast && decision.Ports.Contains(2))
            {
                unicast++;
            }
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(100_000, unicast);
        Assert.Equal(500, fabric.MacTable.CountOnPort(0));
        Assert.Equal(501, fabric.MacTable.Count);
        Assert.Equal(100_000 - 500, fabric.GetCounters(0).MacsNotLearned);
        Assert.True(allocated < 10_000, $"forwarding allocated {allocated} bytes");

        // The other ports can still learn; the table as a whole stops at its capacity.
        for (var i = 0; i < 3000; i++)
        {
            fabric.Forward(1, Frame(MacAddress.Broadcast, Mac(100_000 + i)), decision);
        }

        Assert.Equal(500, fabric.MacTable.CountOnPort(1));
        fabric.RemovePort(0);
        Assert.Equal(501, fabric.MacTable.Count);
    }

    [Fact]
    public void The_global_limit_holds_when_per_port_limits_are_higher()
    {
        var options = new SwitchOptions { MacTableCapacity = 300, DefaultPortMacLimit = 10_000, StormThreshold = 0 };
        var fabric = Switch(_time, options, PortVlan.Default, PortVlan.Default);
        var decision = fabric.CreateDecision();
        for (var i = 0; i < 5000; i++)
        {
            Assert.Equal(ForwardingAction.Flooded, fabric.Forward(0, Frame(MacAddress.Broadcast, Mac(i + 1)), decision));
        }

        Assert.Equal(300, fabric.MacTable.Count);
        Assert.Equal(4700, fabric.GetCounters(0).MacsNotLearned);
    }

    [Fact]
    public void Per_port_mac_limit_from_the_port_config_wins()
    {
        var fabric = new LearningSwitch(new SwitchOptions(), _time);
        var limited = fabric.AddPort(new SwitchPortConfig { Name = "vm", MacLimit = 2 });
        fabric.AddPort(new SwitchPortConfig { Name = "up" });
        var decision = fabric.CreateDecision();
        for (var i = 1; i <= 5; i++)
        {
            fabric.Forward(limited, Frame(MacAddress.Broadcast, Mac(i)), decision);
        }

        Assert.Equal(2, fabric.MacTable.CountOnPort(limited));
        Assert.Equal(3, fabric.GetCounters(limited).MacsNotLearned);
    }

    [Fact]
    public void Mac_flapping_between_two_ports_blocks_one_of_them_with_a_log_line()
    {
        var log = new List<string>();
        var options = new SwitchOptions { FlapThreshold = 5, FlapWindow = TimeSpan.FromSeconds(1), Log = log.Add };
        var fabric = Switch(_time, options, PortVlan.Default, PortVlan.Default, PortVlan.Default);
        var decision = fabric.CreateDecision();
        var blocked = -1;
        for (var i = 0; i < 40 && blocked < 0; i++)
        {
            var port = i % 2;
            fabric.Forward(port, Frame(MacAddress.Broadcast, Mac(1)), decision);
            _time.Advance(TimeSpan.FromMilliseconds(10));
            blocked = fabric.IsBlocked(0) ? 0 : fabric.IsBlocked(1) ? 1 : -1;
        }

        Assert.True(blocked >= 0, "no port was blocked");
        var line = Assert.Single(log);
        Assert.Contains($"port p{blocked} blocked: MAC flapping", line, StringComparison.Ordinal);

        // Blocked: its frames are dropped and nothing is flooded to it.
        Assert.Equal(ForwardingAction.Dropped, fabric.Forward(blocked, Frame(MacAddress.Broadcast, Mac(9)), decision));
        Assert.Equal(SwitchDropReason.Blocked, decision.DropReason);
        fabric.Forward(2, Frame(MacAddress.Broadcast, Mac(3)), decision);
        Assert.DoesNotContain(blocked, Egress(decision));

        fabric.Unblock(blocked);
        fabric.Forward(2, Frame(MacAddress.Broadcast, Mac(3)), decision);
        Assert.Contains(blocked, Egress(decision));
    }

    [Fact]
    public void Moves_spread_out_in_time_do_not_block()
    {
        var options = new SwitchOptions { FlapThreshold = 5, FlapWindow = TimeSpan.FromSeconds(1) };
        var fabric = Switch(_time, options, PortVlan.Default, PortVlan.Default);
        var decision = fabric.CreateDecision();
        for (var i = 0; i < 100; i++)
        {
            fabric.Forward(i % 2, Frame(MacAddress.Broadcast, Mac(1)), decision);
            _time.Advance(TimeSpan.FromMilliseconds(600));
        }

        Assert.False(fabric.IsBlocked(0));
        Assert.False(fabric.IsBlocked(1));
        Assert.True(fabric.GetCounters(1).MacMoves >= 49);
    }

    [Fact]
    public void A_broadcast_storm_blocks_the_port_it_comes_from()
    {
        var log = new List<string>();
        var fabric = Switch(_time, new SwitchOptions { StormThreshold = 100, Log = log.Add }, PortVlan.Default, PortVlan.Default);
        var decision = fabric.CreateDecision();
        var frame = Frame(MacAddress.Broadcast, Mac(1));
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(ForwardingAction.Flooded, fabric.Forward(0, frame, decision));
        }

        Assert.Equal(ForwardingAction.Dropped, fabric.Forward(0, frame, decision));
        Assert.True(fabric.IsBlocked(0));
        Assert.Contains("storm", Assert.Single(log), StringComparison.Ordinal);

        // The same rate spread over seconds is fine on the other port.
        for (var i = 0; i < 300; i++)
        {
            Assert.Equal(ForwardingAction.Flooded, fabric.Forward(1, Frame(MacAddress.Broadcast, Mac(2)), decision));
            _time.Advance(TimeSpan.FromMilliseconds(20));
        }

        Assert.False(fabric.IsBlocked(1));
    }

    [Fact]
    public void Removing_a_port_forgets_its_addresses_and_frees_its_id()
    {
        var fabric = Switch(_time, null, PortVlan.Default, PortVlan.Default, PortVlan.Default);
        var decision = fabric.CreateDecision();
        fabric.Forward(1, Frame(MacAddress.Broadcast, Mac(2)), decision);
        fabric.RemovePort(1);
        Assert.Equal(0, fabric.MacTable.Count);
        fabric.Forward(0, Frame(Mac(2), Mac(1)), decision);
        Assert.Equal([2], Egress(decision));
        Assert.Equal(1, fabric.AddPort(new SwitchPortConfig { Name = "again" }));
        Assert.Throws<ArgumentOutOfRangeException>(() => fabric.Forward(7, Frame(Mac(2), Mac(1)), decision));
    }

    [Fact]
    public void Forwarding_allocates_nothing_in_steady_state()
    {
        var fabric = Switch(_time, null, PortVlan.Access(10), PortVlan.Trunk([10, 20]), PortVlan.Access(10));
        var decision = fabric.CreateDecision();
        var a = Frame(Mac(2), Mac(1));
        var b = Frame(Mac(1), Mac(2), vlan: 10);
        var output = new byte[2000];
        void Run(int count)
        {
            for (var i = 0; i < count; i++)
            {
                fabric.Forward(0, a, decision);
                foreach (var port in decision.Ports)
                {
                    fabric.WriteEgressFrame(port, a, decision, output);
                }

                fabric.Forward(1, b, decision);
            }
        }

        Run(20_000); // warm up (tiered compilation)
        var before = GC.GetAllocatedBytesForCurrentThread();
        Run(10_000);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
