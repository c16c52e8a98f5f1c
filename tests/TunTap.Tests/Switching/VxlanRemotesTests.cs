using System.Net;
using TunTap.Buffers;
using TunTap.Switching;
using TunTap.TestKit;
using TunTap.Wire;
using static TunTap.Tests.Switching.SwitchFrames;
using static TunTap.Tests.Switching.UdpPeer;

namespace TunTap.Tests.Switching;

public sealed class VxlanRemotesTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public void Vxlan_specs_take_several_remotes_joined_by_plus()
    {
        Assert.False(SwitchPortSpec.TryParse("vxlan:10.1.0.2+fd00::1,vni=5", out _, out var mixed));
        Assert.Contains("one address family", mixed, StringComparison.Ordinal);

        var two = SwitchPortSpec.Parse("vxlan:10.1.0.2+10.1.0.3:8472@under,vni=5");
        Assert.Equal([new IPEndPoint(IPAddress.Parse("10.1.0.2"), 4789), new IPEndPoint(IPAddress.Parse("10.1.0.3"), 8472)], two.Remotes);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.1.0.2"), 4789), two.Endpoint);
        Assert.Equal("under", two.Netns);
        Assert.False(SwitchPortSpec.TryParse("vxlan:10.1.0.2+,vni=5", out _, out _));
    }

    [Fact]
    public async Task Floods_go_to_every_remote_and_unicast_only_to_the_remote_the_mac_was_learned_behind()
    {
        using var one = Bound("127.0.0.2");
        using var two = Bound("127.0.0.3");
        await using var port = VxlanPort.Open([(IPEndPoint)one.LocalEndPoint!, (IPEndPoint)two.LocalEndPoint!], 9, new IPEndPoint(IPAddress.Loopback, 0));
        Assert.Equal($"vxlan:{one.LocalEndPoint}+{two.LocalEndPoint},vni=9", port.Name);
        using var batch = new PacketBatch(4, 1600);
        var token = TestContext.Current.CancellationToken;

        // Broadcast and unknown unicast: one copy per remote.
        batch.TryAdd(Frame(MacAddress.Broadcast, Mac(1), totalLength: 60));
        batch.TryAdd(Frame(Mac(2), Mac(1), totalLength: 61));
        Assert.Equal(2, await port.SendBatchAsync(batch, token));
        foreach (var remote in new[] { one, two })
        {
            Assert.Equal(68, (await ReceiveAsync(remote)).Length);
            Assert.Equal(69, (await ReceiveAsync(remote)).Length);
        }
        Assert.Equal(4, port.SentDatagrams);

        // Mac 2 speaks from behind remote two (from another source port, as Linux VTEPs do: same address).
        using var twoOtherPort = Bound("127.0.0.3");
        await twoOtherPort.SendToAsync(Encapsulate(9, Frame(MacAddress.Broadcast, Mac(2))), port.LocalEndPoint, token);
        using var received = new PacketBatch(64, 1519);
        using var cts = new CancellationTokenSource(Timeout);
        Assert.Equal(1, await port.ReceiveBatchAsync(received, cts.Token));

        batch.Clear();
        batch.TryAdd(Frame(Mac(2), Mac(1), totalLength: 62));
        Assert.Equal(1, await port.SendBatchAsync(batch, token));
        Assert.Equal(70, (await ReceiveAsync(two)).Length);
        Assert.Equal(5, port.SentDatagrams);

        // Nothing more reached remote one: the next thing it gets is the next flood.
        batch.Clear();
        batch.TryAdd(Frame(MacAddress.Broadcast, Mac(1), totalLength: 63));
        Assert.Equal(1, await port.SendBatchAsync(batch, token));
        Assert.Equal(71, (await ReceiveAsync(one)).Length);
        Assert.Equal(71, (await ReceiveAsync(two)).Length);
    }

    [Fact]
    public async Task A_sender_that_is_no_remote_teaches_nothing()
    {
        using var one = Bound("127.0.0.2");
        using var two = Bound("127.0.0.3");
        using var stranger = Bound("127.0.0.4");
        await using var port = VxlanPort.Open([(IPEndPoint)one.LocalEndPoint!, (IPEndPoint)two.LocalEndPoint!], 9, new IPEndPoint(IPAddress.Loopback, 0));
        var token = TestContext.Current.CancellationToken;
        await stranger.SendToAsync(Encapsulate(9, Frame(MacAddress.Broadcast, Mac(5))), port.LocalEndPoint, token);
        using var received = new PacketBatch(64, 1519);
        using var cts = new CancellationTokenSource(Timeout);
        Assert.Equal(1, await port.ReceiveBatchAsync(received, cts.Token));

        using var batch = new PacketBatch(4, 1600);
        batch.TryAdd(Frame(Mac(5), Mac(1)));
        Assert.Equal(1, await port.SendBatchAsync(batch, token));
        Assert.Equal(2, port.SentDatagrams);
    }

    [Fact]
    public async Task Several_remotes_learn_and_replicate_without_allocating_per_frame()
    {
        using var one = Bound("127.0.0.2");
        using var two = Bound("127.0.0.3");
        await using var port = VxlanPort.Open([(IPEndPoint)one.LocalEndPoint!, (IPEndPoint)two.LocalEndPoint!], 9, new IPEndPoint(IPAddress.Loopback, 0));
        var datagram = Encapsulate(9, Frame(MacAddress.Broadcast, Mac(2)));
        using var received = new PacketBatch(64, 1519);
        using var outgoing = new PacketBatch(64, 1600);
        outgoing.TryAdd(Frame(Mac(2), Mac(1)));
        outgoing.TryAdd(Frame(MacAddress.Broadcast, Mac(1)));
        var token = TestContext.Current.CancellationToken;
        var buffer = new byte[2048];
        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < 16; i++)
            {
                await two.SendToAsync(datagram, port.LocalEndPoint, token);
            }

            await Wait.UntilAsync(() => port.QueuedBytes > 0, Timeout);
            await Task.Delay(20, token);
            var thread = Environment.CurrentManagedThreadId;
            var before = GC.GetAllocatedBytesForCurrentThread();
            var count = await port.ReceiveBatchAsync(received, token);
            var sent = 0;
            for (var i = 0; i < 8; i++)
            {
                sent += await port.SendBatchAsync(outgoing, token);
            }

            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(thread, Environment.CurrentManagedThreadId);
            Assert.InRange(count, 1, 16);
            Assert.Equal(16, sent);
            if (round > 0)
            {
                Assert.Equal(0, allocated);
            }

            foreach (var remote in new[] { one, two })
            {
                while (remote.Available > 0)
                {
                    remote.Receive(buffer);
                }
            }
        }

        // Per round: 8 unicast copies to two only, 8 broadcast copies to each.
        Assert.Equal(3 * (8 + 16), port.SentDatagrams);
    }
}
