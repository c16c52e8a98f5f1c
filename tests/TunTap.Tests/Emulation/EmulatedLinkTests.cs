using System.Buffers.Binary;
using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using TunTap.Buffers;
using TunTap.Capture;
using TunTap.Devices;
using TunTap.Emulation;
using TunTap.TestKit;

namespace TunTap.Tests.Emulation;

public sealed class EmulatedLinkTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static byte[] Packet(int id, int length = 60)
    {
        var packet = new byte[length];
        packet[0] = 0x45;
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(4), id);
        return packet;
    }

    private static int IdOf(byte[] packet) => BinaryPrimitives.ReadInt32BigEndian(packet.AsSpan(4));

    private static LinkModel Model(string spec, TimeProvider time, ulong seed = 1) => LinkModel.Create(LinkSpecParser.Parse(spec), time, seed);

    private static async Task StopAsync(CancellationTokenSource stop, Task run)
    {
        await stop.CancelAsync();
        await run.WaitAsync(Patience, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task A_packet_leaves_exactly_at_its_departure_on_a_fake_clock()
    {
        var time = new FakeTimeProvider();
        var a = new ChannelTun("a", DeviceMode.Tun);
        var b = new ChannelTun("b", DeviceMode.Tun);
        using var link = new EmulatedLink(a, b, Model("delay 50ms", time), Model("delay 10ms", time, 2), new EmulatedLinkOptions { TimeProvider = time });
        using var stop = new CancellationTokenSource();
        var run = link.RunAsync(stop.Token);

        a.Inject(Packet(1));
        b.Inject(Packet(2));
        await Wait.UntilAsync(() => link.AToB.Counters.ReadPackets == 1 && link.BToA.Counters.ReadPackets == 1, Patience);

        time.Advance(TimeSpan.FromMilliseconds(9));
        await Task.Delay(100, TestContext.Current.CancellationToken);
        Assert.Equal(0, a.WrittenPackets + b.WrittenPackets);

        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(2, IdOf(await a.ReadWrittenAsync(Patience)));
        time.Advance(TimeSpan.FromMilliseconds(39));
        await Task.Delay(100, TestContext.Current.CancellationToken);
        Assert.Equal(0, b.WrittenPackets);

        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, IdOf(await b.ReadWrittenAsync(Patience)));
        Assert.Equal(1, link.AToB.Counters.WrittenPackets);
        Assert.Equal(60, link.AToB.Counters.WrittenBytes);
        Assert.Equal(TimeSpan.Zero, link.AToB.Counters.MaxLateness);
        await StopAsync(stop, run);
    }

    [Fact]
    public async Task A_later_arrival_with_an_earlier_departure_wakes_the_sleeping_writer()
    {
        // Jitter lets a packet offered second leave first: the writer, asleep until the first
        // packet's departure, must be woken for the second.
        var time = new FakeTimeProvider();
        var a = new ChannelTun("a", DeviceMode.Tun);
        var b = new ChannelTun("b", DeviceMode.Tun);
        using var link = new EmulatedLink(a, b, Model("delay 100ms reorder 100% gap 2", time), Model("", time, 2), new EmulatedLinkOptions { TimeProvider = time });
        using var stop = new CancellationTokenSource();
        var run = link.RunAsync(stop.Token);

        // gap 2: the first packet is delayed, the second goes at once.
        a.Inject(Packet(1));
        await Wait.UntilAsync(() => link.AToB.Counters.ReadPackets == 1, Patience);
        await Task.Delay(50, TestContext.Current.CancellationToken);
        a.Inject(Packet(2));
        Assert.Equal(2, IdOf(await b.ReadWrittenAsync(Patience)));
        Assert.Equal(1, b.WrittenPackets);

        time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal(1, IdOf(await b.ReadWrittenAsync(Patience)));
        await StopAsync(stop, run);
    }

    [Fact]
    public async Task Same_seed_and_packets_lose_the_same_packets_on_the_real_clock()
    {
        var first = await DeliveredIdsAsync(seed: 7);
        var second = await DeliveredIdsAsync(seed: 7);
        var other = await DeliveredIdsAsync(seed: 8);
        Assert.Equal(first, second);
        Assert.NotEqual(first, other);
        Assert.InRange(first.Count, 240, 295); // 270 expected, σ ≈ 5.2
    }

    private static async Task<List<int>> DeliveredIdsAsync(ulong seed)
    {
        var a = new ChannelTun("a", DeviceMode.Tun);
        var b = new ChannelTun("b", DeviceMode.Tun);
        using var link = new EmulatedLink(a, b, Model("loss 10%", TimeProvider.System, seed), Model("", TimeProvider.System, seed + 1));
        using var stop = new CancellationTokenSource();
        var run = link.RunAsync(stop.Token);
        for (var i = 0; i < 300; i++)
        {
            a.Inject(Packet(i));
            if (i % 50 == 0)
            {
                await Task.Yield();
            }
        }

        long handled = 0;
        long delivered = 0;
        await Wait.UntilAsync(
            () =>
            {
                link.AToB.ReadModelCounters(c => (handled, delivered) = (c.Delivered + c.DroppedTotal, c.Delivered));
                return handled == 300 && b.WrittenPackets == delivered;
            },
            Patience,
            () => $"handled {handled}, delivered {delivered}, written {b.WrittenPackets}");
        await StopAsync(stop, run);

        var ids = new List<int>();
        while (b.Written.TryRead(out var packet))
        {
            ids.Add(IdOf(packet));
        }

        return ids;
    }

    [Fact]
    public async Task On_the_real_clock_no_packet_leaves_before_its_delay()
    {
        var a = new ChannelTun("a", DeviceMode.Tun);
        var b = new ChannelTun("b", DeviceMode.Tun);
        using var link = new EmulatedLink(a, b, Model("delay 20ms", TimeProvider.System), Model("", TimeProvider.System, 2));
        using var stop = new CancellationTokenSource();
        var run = link.RunAsync(stop.Token);
        for (var i = 0; i < 5; i++)
        {
            var watch = Stopwatch.StartNew();
            a.Inject(Packet(i));
            Assert.Equal(i, IdOf(await b.ReadWrittenAsync(Patience)));
            // Never early; the upper bounds only catch a lost timer (a loaded 2-core machine can be late by a lot).
            Assert.InRange(watch.Elapsed.TotalMilliseconds, 20, 5000);
        }

        Assert.True(link.AToB.Counters.MaxLateness < TimeSpan.FromSeconds(2), $"{link.AToB.Counters.MaxLateness}");
        await StopAsync(stop, run);
    }

    [Fact]
    public async Task Captures_hold_what_each_end_sent_and_received()
    {
        using var streamA = new MemoryStream();
        using var streamB = new MemoryStream();
        using var captureA = new PcapWriter(streamA, PcapLinkType.Raw);
        using var captureB = new PcapWriter(streamB, PcapLinkType.Raw);
        var a = new ChannelTun("a", DeviceMode.Tun);
        var b = new ChannelTun("b", DeviceMode.Tun);
        using var link = new EmulatedLink(a, b, Model("", TimeProvider.System), Model("loss 100%", TimeProvider.System, 2), new EmulatedLinkOptions { CaptureA = captureA, CaptureB = captureB });
        using var stop = new CancellationTokenSource();
        var run = link.RunAsync(stop.Token);
        a.Inject(Packet(1));
        b.Inject(Packet(2));
        await b.ReadWrittenAsync(Patience);
        await Wait.UntilAsync(() => link.BToA.Counters.ReadPackets == 1, Patience);
        await StopAsync(stop, run);

        // A sent 1 (and never received 2: lost); B received 1 and sent 2.
        Assert.Equal([1], Ids(streamA));
        Assert.Equal([1, 2], Ids(streamB).Order());
    }

    private static List<int> Ids(MemoryStream stream)
    {
        stream.Position = 0;
        using var reader = new PcapReader(stream);
        Assert.Equal(PcapLinkType.Raw, reader.LinkType);
        var ids = new List<int>();
        while (reader.TryRead(out var record))
        {
            ids.Add(BinaryPrimitives.ReadInt32BigEndian(record.Data.Span[4..]));
        }

        return ids;
    }

    [Fact]
    public async Task A_failing_device_stops_both_directions_and_its_error_surfaces()
    {
        var a = new FailingTun();
        var b = new ChannelTun("b", DeviceMode.Tun);
        using var link = new EmulatedLink(a, b, Model("", TimeProvider.System), Model("", TimeProvider.System, 2));
        var error = await Assert.ThrowsAsync<IOException>(() => link.RunAsync(CancellationToken.None).WaitAsync(Patience, TestContext.Current.CancellationToken));
        Assert.Equal("device gone", error.Message);
        await Assert.ThrowsAsync<InvalidOperationException>(() => link.RunAsync(CancellationToken.None));
    }

    [Fact]
    public void One_model_cannot_serve_both_directions()
    {
        var model = Model("", TimeProvider.System);
        Assert.Throws<ArgumentException>(() => new EmulatedLink(new ChannelTun("a", DeviceMode.Tun), new ChannelTun("b", DeviceMode.Tun), model, model));
    }

    [Fact]
    public void Throughput_meter_measures_over_its_window_and_holds_between()
    {
        var meter = new ThroughputMeter(1000, TimeSpan.FromSeconds(1));
        Assert.Equal(0, meter.Sample(0, 0));
        Assert.Equal(0, meter.Sample(500_000, 500));
        Assert.Equal(8_000_000, meter.Sample(1_000_000, 1000));
        Assert.Equal(8_000_000, meter.Sample(1_100_000, 1500));
        Assert.Equal(2_000_000, meter.Sample(1_500_000, 3000));
    }

    private sealed class FailingTun : ITunDevice
    {
        public string Name => "failing0";

        public DeviceMode Mode => DeviceMode.Tun;

        public async ValueTask<int> ReadBatchAsync(PacketBatch batch, CancellationToken cancellationToken = default)
        {
            await Task.Delay(20, cancellationToken);
            throw new IOException("device gone");
        }

        public ValueTask<int> WriteBatchAsync(PacketBatch batch, CancellationToken cancellationToken = default) => ValueTask.FromResult(batch.Count);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
