using System.Net;
using System.Net.Sockets;
using TunTap.Buffers;
using TunTap.Devices;
using TunTap.Switching;
using TunTap.TestKit;
using TunTap.Wire;
using static TunTap.Tests.Switching.SwitchFrames;
using static TunTap.Tests.Switching.UdpPeer;

namespace TunTap.Tests.Switching;

public sealed class QemuDgramPortTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public void Dgram_specs_give_a_local_address_an_optional_remote_and_namespace_or_unix_paths()
    {
        var plain = SwitchPortSpec.Parse("qemu:dgram:5555");
        Assert.Equal(SwitchPortKind.QemuDgram, plain.Kind);
        Assert.Equal(new IPEndPoint(IPAddress.Any, 5555), plain.Local);
        Assert.Null(plain.Endpoint);

        var full = SwitchPortSpec.Parse("qemu:dgram:127.0.0.1:5555@under,remote=127.0.0.1:5556,vlan=3");
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 5555), full.Local);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 5556), full.Endpoint);
        Assert.Equal("under", full.Netns);
        Assert.Equal("access:3", full.Vlan.ToString());

        // A bare port listens on IPv6 when the remote is IPv6.
        var v6 = SwitchPortSpec.Parse("qemu:dgram:5555,remote=[::1]:5556");
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Any, 5555), v6.Local);

        var unix = SwitchPortSpec.Parse("qemu:dgram:unix:/run/sw.sock,remote=/run/vm.sock");
        Assert.Equal(SwitchPortKind.QemuDgramUnix, unix.Kind);
        Assert.Equal("/run/sw.sock", unix.Path);
        Assert.Equal("/run/vm.sock", unix.RemotePath);
    }

    [Theory]
    [InlineData("qemu:dgram:", "is not PORT, ADDR:PORT")]
    [InlineData("qemu:dgram:5555@", "is not PORT, ADDR:PORT")]
    [InlineData("qemu:dgram:5555,remote=nowhere", "remote 'nowhere' is not ADDR:PORT")]
    [InlineData("qemu:dgram:5555,remote=127.0.0.1:0", "is not ADDR:PORT")]
    [InlineData("qemu:dgram:127.0.0.1:5555,remote=[::1]:1", "different address families")]
    [InlineData("qemu:dgram:unix:", "needs a socket path")]
    [InlineData("tap:x,remote=1.2.3.4:5", "remote= belongs to qemu:dgram: ports")]
    [InlineData("qemu:dgram:5555,vni=3", "vni= and local= belong to vxlan")]
    public void Bad_dgram_specs_say_what_is_wrong(string text, string expected)
    {
        Assert.False(SwitchPortSpec.TryParse(text, out var spec, out var error));
        Assert.Null(spec);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dgram_port_sends_each_frame_as_one_datagram_to_the_fixed_remote_without_a_prefix()
    {
        using var qemu = Bound();
        await using var port = QemuDgramPort.OpenUdp(AnyLoopback, (IPEndPoint)qemu.LocalEndPoint!);
        Assert.True(port.HasPeer);
        using var batch = new PacketBatch(4, 1600);
        var first = Frame(MacAddress.Broadcast, Mac(1), totalLength: 60);
        var second = Frame(Mac(2), Mac(1), totalLength: 1514);
        batch.TryAdd(first);
        batch.TryAdd(second);

        Assert.Equal(2, await port.SendBatchAsync(batch, TestContext.Current.CancellationToken));
        Assert.Equal(first, await ReceiveAsync(qemu));
        Assert.Equal(second, await ReceiveAsync(qemu));
        Assert.Equal(2, port.SentDatagrams);
    }

    [Fact]
    public async Task Dgram_port_without_a_remote_answers_the_last_sender_and_drops_runts()
    {
        await using var port = QemuDgramPort.OpenUdp(AnyLoopback);
        using var batch = new PacketBatch(64, 1519);
        batch.TryAdd(Frame(MacAddress.Broadcast, Mac(9)));
        Assert.Equal(0, await port.SendBatchAsync(batch, TestContext.Current.CancellationToken));
        Assert.False(port.HasPeer);

        using var vm = Bound();
        var frame = Frame(MacAddress.Broadcast, Mac(1));
        await vm.SendToAsync(new byte[13], port.LocalEndPoint);
        await vm.SendToAsync(frame, port.LocalEndPoint);
        var delivered = await ReceiveFramesAsync(port, batch, 1);
        Assert.Equal([frame], delivered);
        Assert.Equal(2, port.ReceivedDatagrams);
        Assert.Equal(1, port.PeerGeneration);
        var rows = new List<(string Label, long Value)>();
        port.ReadCounters(rows);
        Assert.Contains(("dgram-runts", 1L), rows);

        // Replies go to the VM's address.
        var reply = Frame(Mac(1), Mac(2), totalLength: 100);
        batch.Clear();
        batch.TryAdd(reply);
        Assert.Equal(1, await port.SendBatchAsync(batch, TestContext.Current.CancellationToken));
        Assert.Equal(reply, await ReceiveAsync(vm));

        // A restarted VM on another port is a new peer.
        using var restarted = Bound();
        await restarted.SendToAsync(frame, port.LocalEndPoint);
        await ReceiveFramesAsync(port, batch, 1);
        Assert.Equal(2, port.PeerGeneration);
        batch.Clear();
        batch.TryAdd(reply);
        Assert.Equal(1, await port.SendBatchAsync(batch, TestContext.Current.CancellationToken));
        Assert.Equal(reply, await ReceiveAsync(restarted));
    }

    [Fact]
    public async Task Unix_dgram_port_carries_frames_both_ways_and_removes_its_socket_file()
    {
        var directory = Directory.CreateTempSubdirectory("tt-dgram-");
        try
        {
            var switchPath = Path.Combine(directory.FullName, "sw.sock");
            var vmPath = Path.Combine(directory.FullName, "vm.sock");
            using var vm = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            vm.Bind(new UnixDomainSocketEndPoint(vmPath));
            var port = QemuDgramPort.OpenUnix(switchPath, vmPath);
            await using (port.ConfigureAwait(false))
            {
                var frame = Frame(MacAddress.Broadcast, Mac(1));
                await vm.SendToAsync(frame, new UnixDomainSocketEndPoint(switchPath));
                using var batch = new PacketBatch(64, 1519);
                Assert.Equal([frame], await ReceiveFramesAsync(port, batch, 1));

                var reply = Frame(Mac(1), Mac(2), totalLength: 200);
                batch.Clear();
                batch.TryAdd(reply);
                Assert.Equal(1, await port.SendBatchAsync(batch, TestContext.Current.CancellationToken));
                Assert.Equal(reply, await ReceiveAsync(vm));
            }

            Assert.False(File.Exists(switchPath));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_dgram_client_and_a_tap_port_reach_each_other_through_a_switch()
    {
        var tap = new ChannelTun("a", DeviceMode.Tap);
        using var vm = Bound();
        var port = QemuDgramPort.OpenUdp(AnyLoopback, (IPEndPoint)vm.LocalEndPoint!);
        await using var runner = new SwitchRunner(new LearningSwitch());
        runner.AddPort(new TapPort(tap), new SwitchPortConfig { Name = "a" });
        runner.AddPort(port, new SwitchPortConfig { Name = port.Name });

        var request = Frame(MacAddress.Broadcast, Mac(1), etherType: EtherType.Arp);
        await vm.SendToAsync(request, port.LocalEndPoint);
        Assert.Equal(request, await tap.ReadWrittenAsync(Timeout));
        var reply = Frame(Mac(1), Mac(2), etherType: EtherType.Arp, totalLength: 1514);
        tap.Inject(reply);
        Assert.Equal(reply, await ReceiveAsync(vm));
    }

    [Fact]
    public async Task Dgram_port_sends_and_receives_without_allocating_per_frame()
    {
        using var vm = Bound();
        await using var port = QemuDgramPort.OpenUdp(AnyLoopback);
        using var batch = new PacketBatch(64, 1519);
        var frame = Frame(MacAddress.Broadcast, Mac(1));
        var token = TestContext.Current.CancellationToken;
        for (var round = 0; round < 3; round++)
        {
            // Queued datagrams make the receive complete synchronously, on this thread.
            for (var i = 0; i < 32; i++)
            {
                await vm.SendToAsync(frame, port.LocalEndPoint, token);
            }

            await Wait.UntilAsync(() => port.QueuedBytes > 0, Timeout);
            await Task.Delay(20, token);
            var thread = Environment.CurrentManagedThreadId;
            var before = GC.GetAllocatedBytesForCurrentThread();
            var received = await port.ReceiveBatchAsync(batch, token);
            var sent = await port.SendBatchAsync(batch, token);
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            Assert.Equal(thread, Environment.CurrentManagedThreadId);
            Assert.InRange(received, 1, 32);
            Assert.Equal(received, sent);
            if (round > 0)
            {
                Assert.Equal(0, allocated);
            }

            // Drain what came back so the VM socket does not fill up.
            while (vm.Available > 0)
            {
                vm.Receive(new byte[2048]);
            }
        }
    }

    private static async Task<List<byte[]>> ReceiveFramesAsync(QemuDgramPort port, PacketBatch batch, int expected)
    {
        using var cts = new CancellationTokenSource(Timeout);
        var delivered = new List<byte[]>();
        while (delivered.Count < expected)
        {
            var count = await port.ReceiveBatchAsync(batch, cts.Token);
            for (var i = 0; i < count; i++)
            {
                delivered.Add(batch[i].ToArray());
            }
        }

        return delivered;
    }
}
