using System.Text.Json;
using TunTap.Devices;
using TunTap.Emulation;
using TunTap.Emulation.Topology;
using TunTap.TestKit;

namespace TunTap.Tests.Emulation.Topology;

/// <summary>Live model changes: <see cref="LinkModel.ReplaceStages"/>, <see cref="ControlledLink"/> and the control handler.</summary>
public sealed class TopologyLiveModelTests
{
    private const long Frequency = 1_000_000;

    private static long Ms(double ms) => (long)(ms * Frequency / 1000);

    private static IReadOnlyList<ILinkStage> Stages(string spec, long now) => LinkModelBuilder.BuildStages(LinkSpecParser.Parse(spec), Frequency, now, 1);

    private static List<(byte Id, long Departure)> Drain(LinkModel model)
    {
        var delivered = new List<(byte, long)>();
        for (var guard = 0; guard < 1000 && model.NextDeparture is { } next; guard++)
        {
            while (model.TryDequeue(next, out var packet))
            {
                delivered.Add((packet.Span[0], packet.DepartureTicks));
                model.Release(packet);
            }
        }

        return delivered;
    }

    [Fact]
    public void Packets_inside_keep_the_old_model_and_new_arrivals_take_the_new_one()
    {
        var model = new LinkModel(Stages("delay 100ms", 0), 0);
        model.Enqueue([1], Ms(0));
        model.Enqueue([2], Ms(10));
        model.ReplaceStages(Stages("delay 20ms", Ms(20)));
        model.Enqueue([3], Ms(20));

        var delivered = Drain(model);

        // The new packet overtakes the two that entered under the longer delay; none is lost.
        Assert.Equal([(3, Ms(40)), (1, Ms(100)), (2, Ms(110))], delivered);
        Assert.Equal(3, model.Counters.Delivered);
        Assert.Equal(0, model.Counters.InFlightPackets);
        Assert.Null(model.NextDeparture);
    }

    [Fact]
    public void A_replaced_rate_limit_still_drains_its_queue_at_the_old_rate()
    {
        // 1000-byte packets at 80 kbit/s: 100 ms each.
        var model = new LinkModel(Stages("rate 80kbit queue 10", 0), 0);
        for (byte i = 1; i <= 3; i++)
        {
            var packet = new byte[1000];
            packet[0] = i;
            model.Enqueue(packet, 0);
        }

        model.ReplaceStages(Stages("", Ms(1)));
        model.Enqueue([9], Ms(1));

        var delivered = Drain(model);
        Assert.Equal([(9, Ms(1)), (1, Ms(100)), (2, Ms(200)), (3, Ms(300))], delivered);
    }

    [Fact]
    public async Task Set_through_the_handler_changes_a_running_link_and_reports_both_specs()
    {
        var a = new ChannelTun("a", DeviceMode.Tun);
        var b = new ChannelTun("b", DeviceMode.Tun);
        var time = TimeProvider.System;
        using var link = new EmulatedLink(a, b, LinkModel.Create(LinkSpecParser.Parse("delay 5ms"), time, 1), LinkModel.Create(LinkSpecParser.Parse("delay 5ms"), time, 2));
        using var stop = new CancellationTokenSource();
        var run = link.RunAsync(stop.Token);
        var stopped = 0;
        var controlled = new ControlledLink("wifi", "laptop", "ap", link, "delay 5ms", "delay 5ms", 1);
        var handler = new EmulationControlHandler("lab", [controlled], () => Interlocked.Increment(ref stopped));

        using (var reply = JsonDocument.Parse(handler.Handle("set wifi a2b delay 50ms loss 1%")))
        {
            Assert.True(reply.RootElement.GetProperty("ok").GetBoolean());
            Assert.Equal("delay 50ms loss 1%", reply.RootElement.GetProperty("a2b").GetString());
            Assert.Equal("delay 5ms", reply.RootElement.GetProperty("b2a").GetString());
        }

        Assert.Contains(link.AToB.Model.Stages, stage => stage is LossStage);
        Assert.DoesNotContain(link.BToA.Model.Stages, stage => stage is LossStage);

        using (var reply = JsonDocument.Parse(handler.Handle("replace - both")))
        {
            Assert.Equal("", reply.RootElement.GetProperty("a2b").GetString());
            Assert.Empty(link.AToB.Model.Stages);
            Assert.Empty(link.BToA.Model.Stages);
        }

        // A packet still moves after the changes.
        a.Inject(new byte[] { 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2 });
        Assert.Equal(20, (await b.ReadWrittenAsync(TimeSpan.FromSeconds(10))).Length);

        using (var status = JsonDocument.Parse(handler.Handle("status")))
        {
            var only = Assert.Single(status.RootElement.GetProperty("links").EnumerateArray());
            Assert.Equal("wifi", only.GetProperty("link").GetString());
            Assert.Equal("laptop", only.GetProperty("a").GetString());
        }

        using (JsonDocument.Parse(handler.Handle("stop")))
        {
            await Wait.UntilAsync(() => Volatile.Read(ref stopped) == 1, TimeSpan.FromSeconds(10));
        }

        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
    }

    [Theory]
    [InlineData("delay 20ms 5ms rate 10mbit queue 100", "delay 80ms", "rate 10mbit queue 100 delay 80ms")]
    [InlineData("delay 20ms loss gemodel 1% 30% slot 1ms 5ms packets 4", "loss 2%", "delay 20ms slot 1ms 5ms packets 4 loss 2%")]
    [InlineData("delay 20ms rate 10mbit", "trace /t/up once", "delay 20ms trace /t/up once")]
    [InlineData("trace /t/up delay 5ms", "rate 1mbit", "delay 5ms rate 1mbit")]
    [InlineData("", "delay 1ms", "delay 1ms")]
    [InlineData("codel target 5ms interval 100ms rate 1mbit", "queue 10", "codel target 5ms interval 100ms rate 1mbit queue 10")]
    public void A_change_replaces_each_option_it_names_as_a_whole(string current, string change, string expected)
    {
        Assert.Equal(expected, LinkSpecMerge.Merge(current, change));
    }

    [Theory]
    [InlineData("set wifi a2b loss 150%", "--loss: 150% is out of range; allowed 0-100%")]
    [InlineData("set wifi sideways delay 5ms", "'sideways' is not a direction")]
    [InlineData("set lan both delay 5ms", "emulation lab has no link 'lan'")]
    [InlineData("set wifi both", "set needs model options")]
    [InlineData("set wifi both wobble 3", "unknown option 'wobble'")]
    [InlineData("fly away", "unknown request 'fly away'")]
    [InlineData("", "empty request")]
    public void Bad_requests_get_an_error_and_change_nothing(string request, string expected)
    {
        var a = new ChannelTun("a", DeviceMode.Tun);
        var b = new ChannelTun("b", DeviceMode.Tun);
        using var link = new EmulatedLink(a, b, LinkModel.Create(LinkSpecParser.Parse("delay 5ms"), TimeProvider.System, 1), LinkModel.Create(new LinkModelOptions(), TimeProvider.System, 2));
        var controlled = new ControlledLink("wifi", "laptop", "ap", link, "delay 5ms", "", 1);
        var handler = new EmulationControlHandler("lab", [controlled], () => { });

        using var reply = JsonDocument.Parse(handler.Handle(request));
        Assert.False(reply.RootElement.GetProperty("ok").GetBoolean());
        Assert.StartsWith(expected, reply.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal("delay 5ms", controlled.SpecAToB);
        Assert.Equal("", controlled.SpecBToA);
    }
}
