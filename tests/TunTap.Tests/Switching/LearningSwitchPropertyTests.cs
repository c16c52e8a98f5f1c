using CsCheck;
using Microsoft.Extensions.Time.Testing;
using TunTap.Switching;
using TunTap.Wire;
using static TunTap.Tests.Switching.SwitchFrames;

namespace TunTap.Tests.Switching;

public sealed class LearningSwitchPropertyTests
{
    private static readonly Gen<PortVlan> VlanConfig = Gen.Frequency(
        (2, Gen.UShort[1, 4].Select(PortVlan.Access)),
        (1, Gen.Select(Gen.UShort[1, 4].Array[1, 3], Gen.Bool, Gen.UShort[1, 4]).Select((allowed, hasNative, native) => PortVlan.Trunk(allowed, hasNative ? native : null))));

    // Ingress port, destination (index into a small pool, or broadcast), source, tag (-1 none), length, time step (ms).
    private static readonly Gen<(int Port, int Destination, int Source, int Tag, int Length, int Step)> FrameSpec =
        Gen.Select(Gen.Int[0, 5], Gen.Int[0, 6], Gen.Int[0, 6], Gen.Int[-1, 6], Gen.Int[0, 100], Gen.Int[0, 50]);

    [Fact]
    public void Forwarding_never_returns_to_the_ingress_port_and_never_leaks_across_vlans()
    {
        Gen.Select(VlanConfig.Array[2, 6], FrameSpec.Array[1, 80]).Sample((configs, frames) =>
        {
            var time = new FakeTimeProvider();
            var fabric = Switch(time, new SwitchOptions { MacAgingTime = TimeSpan.FromSeconds(1), FlapThreshold = 3 }, configs);
            var decision = fabric.CreateDecision();
            var output = new byte[200];
            foreach (var (portIndex, destinationIndex, sourceIndex, tag, length, step) in frames)
            {
                time.Advance(TimeSpan.FromMilliseconds(step));
                var port = portIndex % configs.Length;
                var destination = destinationIndex == 6 ? MacAddress.Broadcast : Mac(destinationIndex + 1);
                var frame = Frame(destination, Mac(sourceIndex + 1), tag < 0 ? null : (ushort)(tag == 6 ? 4095 : tag), 0, Math.Max(length, 18));
                var action = fabric.Forward(port, frame.AsSpan(0, Math.Min(length, frame.Length)), decision);
                if (action is ForwardingAction.Dropped or ForwardingAction.Filtered)
                {
                    Assert.True(decision.Ports.IsEmpty);
                    continue;
                }

                var ingressTag = tag is < 0 or 0 ? (ushort?)null : (ushort)(tag == 6 ? 4095 : tag);
                Assert.Equal(ingressTag ?? configs[port].UntaggedVlan, decision.Vlan);
                Assert.True(configs[port].IsMember(decision.Vlan));
                foreach (var egress in decision.Ports)
                {
                    Assert.NotEqual(port, egress);
                    Assert.True(configs[egress].IsMember(decision.Vlan), $"port {egress} ({configs[egress]}) got VLAN {decision.Vlan}");
                    Assert.False(fabric.IsBlocked(egress));
                    var written = fabric.WriteEgressFrame(egress, frame.AsSpan(0, Math.Min(length, frame.Length)), decision, output);
                    var egressTag = TagOf(output[..written]);
                    Assert.Equal(configs[egress].UntaggedVlan == decision.Vlan ? null : decision.Vlan, egressTag);
                }
            }
        }, iter: 3000);
    }

    [Fact]
    public void Random_bytes_on_any_port_never_throw()
    {
        var fabric = Switch(new FakeTimeProvider(), null, PortVlan.Access(1), PortVlan.Trunk([1, 2, 3], nativeVlan: 1), PortVlan.Trunk([2]));
        var decision = fabric.CreateDecision();
        var output = new byte[2100];
        Gen.Select(Gen.Int[0, 2], Gen.Byte.Array[0, 2000]).Sample((port, bytes) =>
        {
            if (fabric.Forward(port, bytes, decision) is ForwardingAction.Unicast or ForwardingAction.Flooded)
            {
                foreach (var egress in decision.Ports)
                {
                    Assert.True(fabric.WriteEgressFrame(egress, bytes, decision, output) >= EthernetFrame.UntaggedHeaderLength);
                }
            }
        }, iter: 20_000);
    }

    [Fact]
    public void Mac_table_agrees_with_a_naive_model_and_never_exceeds_its_limits()
    {
        Gen.Select(Gen.Int[0, 3], Gen.Int[0, 40], Gen.UShort[1, 2], Gen.Int[0, 3000]).Array[1, 300].Sample(operations =>
        {
            var time = new FakeTimeProvider();
            var table = new MacTable(20, 4, TimeSpan.FromSeconds(5), time);
            var model = new Dictionary<(int Mac, ushort Vlan), (int Port, DateTimeOffset Seen)>();
            foreach (var (port, mac, vlan, step) in operations)
            {
                time.Advance(TimeSpan.FromMilliseconds(step));
                var now = time.GetTimestamp();
                foreach (var key in model.Where(e => time.GetUtcNow() - e.Value.Seen > TimeSpan.FromSeconds(5)).Select(e => e.Key).ToList())
                {
                    model.Remove(key);
                    table.TryLookup(Mac(key.Mac), key.Vlan, now, out _);
                }

                var outcome = table.Learn(Mac(mac), vlan, port, 8, now, out _);
                var known = model.TryGetValue((mac, vlan), out var entry);
                var onPort = model.Count(e => e.Value.Port == port);
                var expected = known && entry.Port == port ? LearnOutcome.Refreshed
                    : onPort >= 8 ? LearnOutcome.PortLimitReached
                    : known ? LearnOutcome.Moved
                    : model.Count >= 20 ? LearnOutcome.TableFull
                    : LearnOutcome.Learned;
                Assert.Equal(expected, outcome);
                if (expected is LearnOutcome.Learned or LearnOutcome.Moved or LearnOutcome.Refreshed)
                {
                    model[(mac, vlan)] = (port, time.GetUtcNow());
                }
                else if (known)
                {
                    model.Remove((mac, vlan));
                }

                Assert.Equal(model.Count, table.Count);
                for (var p = 0; p < 4; p++)
                {
                    Assert.Equal(model.Count(e => e.Value.Port == p), table.CountOnPort(p));
                    Assert.True(table.CountOnPort(p) <= 8);
                }
            }
        }, iter: 500);
    }
}
