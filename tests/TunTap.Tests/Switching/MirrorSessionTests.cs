using Microsoft.Extensions.Time.Testing;
using TunTap.Capture;
using TunTap.Devices;
using TunTap.Switching;
using TunTap.TestKit;
using TunTap.Wire;
using static TunTap.Tests.Switching.SwitchFrames;

namespace TunTap.Tests.Switching;

public sealed class MirrorSessionTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public void A_frame_is_selected_once_as_received_when_it_enters_a_source_else_as_it_leaves_the_first_source()
    {
        var session = new MirrorSession([1, 3], destination: 5, maxPorts: 8);
        var egress = new PortSet(8);

        egress.Add(2);
        Assert.True(session.Selects(1, egress, out var form));
        Assert.Equal(-1, form);

        egress.Add(3);
        Assert.True(session.Selects(1, egress, out form)); // between two sources: still once, as received
        Assert.Equal(-1, form);

        Assert.True(session.Selects(0, egress, out form));
        Assert.Equal(3, form);

        egress.Clear();
        egress.Add(2);
        Assert.False(session.Selects(0, egress, out _));
        Assert.False(session.Selects(0, new PortSet(8), out _));
        Assert.True(session.Selects(3, new PortSet(8), out form)); // dropped or filtered: the ingress copy remains
        Assert.Equal(-1, form);
    }

    [Fact]
    public void A_session_needs_sources_other_than_its_destination()
    {
        Assert.Throws<ArgumentException>(() => new MirrorSession([], 1, 4));
        Assert.Throws<ArgumentException>(() => new MirrorSession([0, 1], 1, 4));
    }

    [Fact]
    public void A_mirror_destination_only_listens()
    {
        var fabric = Switch(new FakeTimeProvider(), null, PortVlan.Default, PortVlan.Default, PortVlan.Default);
        fabric.SetMirrorDestination(2, true);
        var decision = fabric.CreateDecision();
        Assert.Equal(ForwardingAction.Flooded, fabric.Forward(0, Frame(MacAddress.Broadcast, Mac(1)), decision));
        Assert.Equal([1], Egress(decision));
        Assert.Equal(ForwardingAction.Dropped, fabric.Forward(2, Frame(Mac(1), Mac(3)), decision));
        Assert.Equal(SwitchDropReason.MirrorDestination, decision.DropReason);
        Assert.Equal(0, fabric.MacTable.CountOnPort(2));

        fabric.SetMirrorDestination(2, false);
        Assert.Equal(ForwardingAction.Unicast, fabric.Forward(2, Frame(Mac(1), Mac(3)), decision));
    }

    [Fact]
    public async Task The_mirror_port_gets_both_directions_of_a_mirrored_port_once_with_egress_tagging()
    {
        var (a, b, c, m) = (Tap("a"), Tap("b"), Tap("c"), Tap("m"));
        await using var runner = new SwitchRunner(new LearningSwitch());
        var pa = runner.AddPort(new TapPort(a), new SwitchPortConfig { Name = "a" });
        var pb = runner.AddPort(new TapPort(b), new SwitchPortConfig { Name = "b", Vlan = PortVlan.Trunk([1], null) });
        runner.AddPort(new TapPort(c), new SwitchPortConfig { Name = "c" });
        var pm = runner.AddPort(new TapPort(m), new SwitchPortConfig { Name = "m" });
        runner.AddMirror([pa, pb], pm);

        // a -> broadcast (ingress on a): copied as received, once, although it also leaves through b.
        var broadcast = Frame(MacAddress.Broadcast, Mac(1), totalLength: 60);
        a.Inject(broadcast);
        Assert.Equal(broadcast, await m.ReadWrittenAsync(Timeout));

        // c -> a (egress on a only): copied as it leaves a.
        var toA = Frame(Mac(1), Mac(3), totalLength: 70);
        c.Inject(toA);
        Assert.Equal(toA, await a.ReadWrittenAsync(Timeout));
        Assert.Equal(toA, await m.ReadWrittenAsync(Timeout));

        // c -> b (b tags VLAN 1): the copy carries b's tag.
        var fromB = Frame(Mac(3), Mac(2), vlan: 1, totalLength: 80);
        b.Inject(fromB); // b learned, copied as received (tagged)
        Assert.Equal(fromB, await m.ReadWrittenAsync(Timeout));
        var toB = Frame(Mac(2), Mac(3), totalLength: 90);
        c.Inject(toB);
        var tagged = await m.ReadWrittenAsync(Timeout);
        Assert.Equal(94, tagged.Length);
        Assert.Equal((ushort)1, EthernetFrame.TryCreate(tagged, out var view) ? view.VlanId : 0);

        // The destination's own frames go nowhere; nothing else reached it.
        m.Inject(Frame(MacAddress.Broadcast, Mac(9)));
        await Wait.UntilAsync(() => runner.Switch.GetCounters(pm).GetDropped(SwitchDropReason.MirrorDestination) == 1, Timeout);
        Assert.False(m.Written.TryRead(out _));
        Assert.Equal(4, m.WrittenPackets);
    }

    [Fact]
    public async Task Removing_a_port_ends_its_mirroring_so_a_reused_id_is_not_mirrored()
    {
        var (a, b, m) = (Tap("a"), Tap("b"), Tap("m"));
        await using var runner = new SwitchRunner(new LearningSwitch());
        var pa = runner.AddPort(new TapPort(a), new SwitchPortConfig { Name = "a" });
        runner.AddPort(new TapPort(b), new SwitchPortConfig { Name = "b" });
        var pm = runner.AddPort(new TapPort(m), new SwitchPortConfig { Name = "m" });
        var session = runner.AddMirror([pa], pm);
        Assert.Throws<ArgumentException>(() => runner.AddMirror([pa], pm));

        await runner.RemovePortAsync(pa);
        Assert.False(session.Sources.Contains(pa));
        var again = Tap("a2");
        Assert.Equal(pa, runner.AddPort(new TapPort(again), new SwitchPortConfig { Name = "a2" }));
        var frame = Frame(MacAddress.Broadcast, Mac(1));
        again.Inject(frame);
        Assert.Equal(frame, await b.ReadWrittenAsync(Timeout));
        Assert.Equal(0, m.WrittenPackets);
    }

    [Fact]
    public async Task Capture_ports_record_ingress_and_egress_of_the_chosen_ports_once()
    {
        var (a, b, c) = (Tap("a"), Tap("b"), Tap("c"));
        using var stream = new MemoryStream();
        using var writer = new PcapWriter(stream, PcapLinkType.Ethernet);
        await using var runner = new SwitchRunner(new LearningSwitch(), capture: writer);
        var pa = runner.AddPort(new TapPort(a), new SwitchPortConfig { Name = "a" });
        var pb = runner.AddPort(new TapPort(b), new SwitchPortConfig { Name = "b" });
        runner.AddPort(new TapPort(c), new SwitchPortConfig { Name = "c" });
        runner.SetCapturePorts([pa, pb]);

        b.Inject(Frame(MacAddress.Broadcast, Mac(2), totalLength: 61));  // b learned; recorded (ingress b)
        await ReadLengthAsync(c, 61);
        a.Inject(Frame(Mac(2), Mac(1), totalLength: 62));               // a -> b: recorded once
        await ReadLengthAsync(b, 62);
        c.Inject(Frame(Mac(1), Mac(3), totalLength: 63));               // c -> a: recorded (egress a)
        await ReadLengthAsync(a, 63);
        c.Inject(Frame(Mac(7), Mac(3), totalLength: 64));               // flood from c: recorded once (egress a and b)
        await ReadLengthAsync(b, 64);
        await runner.DisposeAsync();

        Assert.Equal([61, 62, 63, 64], RecordLengths(stream.ToArray()));
    }

    private static ChannelTun Tap(string name) => new(name, DeviceMode.Tap);

    /// <summary>Reads what the switch wrote to <paramref name="tap"/> until a frame of <paramref name="length"/> bytes (earlier floods are skipped).</summary>
    private static async Task ReadLengthAsync(ChannelTun tap, int length)
    {
        for (var i = 0; i < 10; i++)
        {
            if ((await tap.ReadWrittenAsync(Timeout)).Length == length)
            {
                return;
            }
        }

        throw new InvalidOperationException($"no frame of {length} bytes");
    }

    private static List<int> RecordLengths(byte[] pcap)
    {
        var lengths = new List<int>();
        for (var offset = 24; offset + 16 <= pcap.Length;)
        {
            var length = BitConverter.ToInt32(pcap, offset + 8);
            lengths.Add(length);
            offset += 16 + length;
        }

        return lengths;
    }
}
