using System.Net;
using TunTap.Buffers;
using TunTap.Devices;
using TunTap.Switching;
using TunTap.TestKit;
using TunTap.Wire;
using static TunTap.Tests.Switching.SwitchFrames;
using static TunTap.Tests.Switching.UdpPeer;

namespace TunTap.Tests.Switching;

public sealed class VxlanPortTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Vxlan_port_sends_each_frame_as_one_datagram_with_the_vni_header()
    {
        using var peer = Bound();
        await using var port = VxlanPort.Open((IPEndPoint)peer.LocalEndPoint!, 42, AnyLoopback);
        using var batch = new PacketBatch(4, 1600);
        var first = Frame(MacAddress.Broadcast, Mac(1), totalLength: 60);
        var second = Frame(Mac(2), Mac(1), totalLength: 1514);
        batch.TryAdd(first);
        batch.TryAdd(second);

        Assert.Equal(2, await port.SendBatchAsync(batch, TestContext.Current.CancellationToken));
        var datagram = await ReceiveAsync(peer);
        Assert.Equal(new byte[] { 0x08, 0, 0, 0, 0, 0, 42, 0 }, datagram[..8]);
        Assert.Equal(first, datagram[8..]);
        Assert.Equal(8 + 1514, (await ReceiveAsync(peer)).Length);
        Assert.Equal(2, port.SentDatagrams);
        Assert.NotEqual(0, port.LocalEndPoint.Port);
    }

    [Fact]
    public async Task Vxlan_port_drops_garbage_and_other_vnis_with_counted_reasons_and_keeps_receiving()
    {
        using var peer = Bound();
        await using var port = VxlanPort.Open((IPEndPoint)peer.LocalEndPoint!, 42, AnyLoopback);
        var to = port.LocalEndPoint;
        var frame = Frame(MacAddress.Broadcast, Mac(1));
        var random = new Random(7);
        for (var i = 0; i < 20; i++)
        {
            var garbage = new byte[random.Next(0, 100)];
            random.NextBytes(garbage);
            garbage.AsSpan(0, Math.Min(1, garbage.Length)).Clear(); // I flag clear (or empty)
            await peer.SendToAsync(garbage, to);
        }

        await peer.SendToAsync(new byte[] { 0x08, 0, 0 }, to);                                   // truncated header
        await peer.SendToAsync(Encapsulate(43, frame), to);                                     // another VNI
        await peer.SendToAsync(Encapsulate(42, frame.AsSpan(0, 13).ToArray()), to);            // runt frame
        await peer.SendToAsync(Encapsulate(42, frame), to);                                     // the one to deliver

        using var batch = new PacketBatch(64, 1519);
        using var cts = new CancellationTokenSource(Timeout);
        var delivered = new List<byte[]>();
        while (delivered.Count == 0)
        {
            var count = await port.ReceiveBatchAsync(batch, cts.Token);
            Assert.True(count > 0);
            for (var i = 0; i < count; i++)
            {
                delivered.Add(batch[i].ToArray());
            }
        }

        Assert.Equal([frame], delivered);
        Assert.Equal(24, port.ReceivedDatagrams);
        Assert.Equal(1, port.GetDropped(VxlanDropReason.WrongVni));
        Assert.Equal(1, port.GetDropped(VxlanDropReason.Runt));
        Assert.Equal(20 + 1, port.GetDropped(VxlanDropReason.Truncated) + port.GetDropped(VxlanDropReason.NoVniFlag));
        Assert.True(port.GetDropped(VxlanDropReason.Truncated) >= 1);
        Assert.Equal(23, port.Dropped);
        var rows = new List<(string Label, long Value)>();
        port.ReadCounters(rows);
        Assert.Contains(("vxlan-dropped wrong-vni", 1L), rows);
    }

    [Fact]
    public async Task Two_switches_joined_by_vxlan_ports_carry_frames_end_to_end()
    {
        var a = new ChannelTun("a", DeviceMode.Tap);
        var b = new ChannelTun("b", DeviceMode.Tap);
        // Both sockets are bound first, so each port knows the other's kernel-picked port.
        var leftSocket = Bound();
        var rightSocket = Bound();
        var left = new VxlanPort(leftSocket, (IPEndPoint)rightSocket.LocalEndPoint!, 7);
        var right = new VxlanPort(rightSocket, (IPEndPoint)leftSocket.LocalEndPoint!, 7);

        await using var one = new SwitchRunner(new LearningSwitch());
        await using var two = new SwitchRunner(new LearningSwitch());
        one.AddPort(new TapPort(a), new SwitchPortConfig { Name = "a" });
        one.AddPort(left, new SwitchPortConfig { Name = left.Name });
        two.AddPort(new TapPort(b), new SwitchPortConfig { Name = "b" });
        two.AddPort(right, new SwitchPortConfig { Name = right.Name });

        var request = Frame(MacAddress.Broadcast, Mac(1), etherType: EtherType.Arp);
        a.Inject(request);
        Assert.Equal(request, await b.ReadWrittenAsync(Timeout));
        var reply = Frame(Mac(1), Mac(2), etherType: EtherType.Arp, totalLength: 1514);
        b.Inject(reply);
        Assert.Equal(reply, await a.ReadWrittenAsync(Timeout));
        // The counters move just after the send: the frame may arrive first.
        await Wait.UntilAsync(() => right.SentDatagrams == 1 && left.SentDatagrams == 1, Timeout, () => $"{left.SentDatagrams} {right.SentDatagrams}");
    }

    [Fact]
    public async Task Vxlan_port_sends_and_receives_without_allocating_per_frame()
    {
        using var peer = Bound();
        await using var port = VxlanPort.Open((IPEndPoint)peer.LocalEndPoint!, 42, AnyLoopback);
        using var batch = new PacketBatch(64, 1519);
        var datagram = Encapsulate(42, Frame(MacAddress.Broadcast, Mac(1)));
        var token = TestContext.Current.CancellationToken;
        for (var round = 0; round < 3; round++)
        {
            // Queued datagrams make the receive complete synchronously, on this thread.
            for (var i = 0; i < 32; i++)
            {
                await peer.SendToAsync(datagram, port.LocalEndPoint, token);
            }

            await Wait.UntilAsync(() => port.QueuedBytes > 0, Timeout);
            await Task.Delay(20, token);
            var thread = Environment.CurrentManagedThreadId;
            var before = GC.GetAllocatedBytesForCurrentThread();
            var received = await port.ReceiveBatchAsync(batch, token);
            var sent = 0;
            for (var i = 0; i < 32; i++)
            {
                sent += await port.SendBatchAsync(batch, token);
            }

            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            // Still on the same thread: everything completed synchronously, so the count is complete.
            Assert.Equal(thread, Environment.CurrentManagedThreadId);
            Assert.InRange(received, 1, 32);
            Assert.Equal(32 * received, sent);
            if (round > 0)
            {
                Assert.Equal(0, allocated);
            }
        }
    }
}
