using System.Buffers.Binary;
using System.Net.Sockets;
using TunTap.Buffers;
using TunTap.Devices;
using TunTap.Switching;
using TunTap.TestKit;
using TunTap.Wire;
using static TunTap.Tests.Switching.SwitchFrames;

namespace TunTap.Tests.Switching;

public sealed class SwitchRunnerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Frames_flow_between_tap_ports_broadcast_to_all_then_unicast_to_one()
    {
        var devices = new[] { new ChannelTun("a", DeviceMode.Tap), new ChannelTun("b", DeviceMode.Tap), new ChannelTun("c", DeviceMode.Tap) };
        await using var runner = new SwitchRunner(new LearningSwitch());
        foreach (var device in devices)
        {
            runner.AddPort(new TapPort(device), new SwitchPortConfig { Name = device.Name });
        }

        var request = Frame(MacAddress.Broadcast, Mac(1), etherType: EtherType.Arp);
        devices[0].Inject(request);
        Assert.Equal(request, await devices[1].ReadWrittenAsync(Timeout));
        Assert.Equal(request, await devices[2].ReadWrittenAsync(Timeout));

        var reply = Frame(Mac(1), Mac(2), etherType: EtherType.Arp);
        devices[1].Inject(reply);
        Assert.Equal(reply, await devices[0].ReadWrittenAsync(Timeout));

        var next = Frame(Mac(2), Mac(1));
        devices[0].Inject(next);
        Assert.Equal(next, await devices[1].ReadWrittenAsync(Timeout));
        await Wait.UntilAsync(() => runner.Switch.GetCounters(1).SentFrames == 2, Timeout);
        Assert.False(devices[2].Written.TryRead(out _));
        Assert.False(devices[0].Written.TryRead(out _));

        var ports = runner.ListPorts();
        Assert.Equal(["a", "b", "c"], ports.Select(p => p.Name));
        Assert.Equal(2, ports[0].Counters.ReceivedFrames);
        Assert.Equal(2, runner.ListMacs().Count);
    }

    [Fact]
    public async Task A_port_removed_while_running_gets_nothing_and_a_new_one_gets_traffic()
    {
        var a = new ChannelTun("a", DeviceMode.Tap);
        var b = new ChannelTun("b", DeviceMode.Tap);
        var c = new ChannelTun("c", DeviceMode.Tap);
        await using var runner = new SwitchRunner(new LearningSwitch());
        runner.AddPort(new TapPort(a), new SwitchPortConfig { Name = "a" });
        var bId = runner.AddPort(new TapPort(b), new SwitchPortConfig { Name = "b" });
        await runner.RemovePortAsync(bId);
        runner.AddPort(new TapPort(c), new SwitchPortConfig { Name = "c" });

        var frame = Frame(MacAddress.Broadcast, Mac(1));
        a.Inject(frame);
        Assert.Equal(frame, await c.ReadWrittenAsync(Timeout));
        Assert.Equal(0, b.WrittenPackets);
        Assert.Equal(2, runner.ListPorts().Count);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await runner.RemovePortAsync(7));
    }

    [Fact]
    public async Task A_stalled_port_fills_its_queue_and_drops_are_counted_while_others_keep_flowing()
    {
        var a = new ChannelTun("a", DeviceMode.Tap);
        var b = new ChannelTun("b", DeviceMode.Tap);
        var stalled = new StalledPort();
        await using var runner = new SwitchRunner(new LearningSwitch(), new SwitchRunnerOptions { EgressQueueLength = 8, BatchSize = 4 });
        runner.AddPort(new TapPort(a), new SwitchPortConfig { Name = "a" });
        runner.AddPort(new TapPort(b), new SwitchPortConfig { Name = "b" });
        var stalledId = runner.AddPort(stalled, new SwitchPortConfig { Name = "stalled" });
        for (var i = 0; i < 50; i++)
        {
            a.Inject(Frame(MacAddress.Broadcast, Mac(1)));
            await b.ReadWrittenAsync(Timeout);
        }

        // The stalled port holds 8 queued and at most a batch (4) in its send call; the rest are dropped.
        var counters = runner.Switch.GetCounters(stalledId);
        var dropped = counters.GetDropped(SwitchDropReason.QueueFull);
        Assert.InRange(dropped, 50 - 8 - 4, 50 - 8);
        Assert.Equal(dropped, counters.Dropped);
        Assert.Equal(0, counters.SentFrames);
    }

    [Fact]
    public async Task A_qemu_stream_client_is_switched_with_length_prefixed_frames_and_garbage_only_costs_its_connection()
    {
        var path = Path.Combine(Path.GetTempPath(), $"tt-sw-{Guid.NewGuid():N}.sock");
        var log = new List<string>();
        var tap = new ChannelTun("tap", DeviceMode.Tap);
        await using var runner = new SwitchRunner(new LearningSwitch());
        runner.AddPort(new TapPort(tap), new SwitchPortConfig { Name = "tap" });
        var qemu = QemuStreamPort.ListenUnix(path, log: line => { lock (log) { log.Add(line); } });
        var qemuId = runner.AddPort(qemu, new SwitchPortConfig { Name = qemu.Name });

        using (var vm = await ConnectAsync(path))
        {
            var request = Frame(MacAddress.Broadcast, Mac(0x10), etherType: EtherType.Arp, totalLength: 42);
            await SendFramesAsync(vm, request);
            Assert.Equal(request, await tap.ReadWrittenAsync(Timeout));

            var reply = Frame(Mac(0x10), Mac(0x20), etherType: EtherType.Arp, totalLength: 42);
            tap.Inject(reply);
            Assert.Equal(reply, await ReceiveFrameAsync(vm));

            // Two frames in one write, the second split across writes: both arrive whole.
            var f1 = Frame(Mac(0x20), Mac(0x10), totalLength: 100);
            var f2 = Frame(Mac(0x20), Mac(0x10), totalLength: 1514);
            var bytes = Prefixed(f1).Concat(Prefixed(f2)).ToArray();
            await vm.SendAsync(bytes.AsMemory(0, 300), SocketFlags.None, TestContext.Current.CancellationToken);
            await Task.Delay(50, TestContext.Current.CancellationToken);
            await vm.SendAsync(bytes.AsMemory(300), SocketFlags.None, TestContext.Current.CancellationToken);
            Assert.Equal(f1, await tap.ReadWrittenAsync(Timeout));
            Assert.Equal(f2, await tap.ReadWrittenAsync(Timeout));

            // Garbage: a length no frame has. The switch drops this connection.
            await vm.SendAsync(new byte[] { 0xde, 0xad, 0xbe, 0xef, 1, 2, 3 }, SocketFlags.None, TestContext.Current.CancellationToken);
            await Wait.UntilAsync(
                () =>
                {
                    lock (log)
                    {
                        return log.Exists(line => line.Contains("dropped the connection: length prefix 3735928559", StringComparison.Ordinal));
                    }
                },
                Timeout);
        }

        Assert.Equal(1, qemu.DroppedConnections);

        // The next VM gets the port back, and what was learned from the old one is forgotten.
        using (var vm = await ConnectAsync(path))
        {
            var again = Frame(MacAddress.Broadcast, Mac(0x30), totalLength: 60);
            await SendFramesAsync(vm, again);
            Assert.Equal(again, await tap.ReadWrittenAsync(Timeout));
            Assert.Equal(2, qemu.PeerGeneration);
            Assert.DoesNotContain(runner.ListMacs(), e => e.Address == Mac(0x10));
            tap.Inject(Frame(Mac(0x30), Mac(0x20), totalLength: 60));
            Assert.Equal(60, (await ReceiveFrameAsync(vm)).Length);
        }

        Assert.Equal(4, runner.Switch.GetCounters(qemuId).ReceivedFrames);
        await runner.DisposeAsync();
        Assert.False(File.Exists(path));
    }

    private static async Task<Socket> ConnectAsync(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
        return socket;
    }

    private static byte[] Prefixed(byte[] frame)
    {
        var bytes = new byte[4 + frame.Length];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)frame.Length);
        frame.CopyTo(bytes, 4);
        return bytes;
    }

    private static async Task SendFramesAsync(Socket socket, byte[] frame) => await socket.SendAsync(Prefixed(frame));

    private static async Task<byte[]> ReceiveFrameAsync(Socket socket)
    {
        using var cts = new CancellationTokenSource(Timeout);
        var header = new byte[4];
        await ReceiveExactlyAsync(socket, header, cts.Token);
        var frame = new byte[BinaryPrimitives.ReadUInt32BigEndian(header)];
        await ReceiveExactlyAsync(socket, frame, cts.Token);
        return frame;
    }

    private static async Task ReceiveExactlyAsync(Socket socket, byte[] buffer, CancellationToken token)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, token);
            Assert.True(n > 0, "connection closed");
            read += n;
        }
    }

    /// <summary>A port whose peer never takes anything and never sends.</summary>
    private sealed class StalledPort : ISwitchPort
    {
        public string Name => "stalled";

        public long PeerGeneration => 0;

        public async ValueTask<int> ReceiveBatchAsync(PacketBatch batch, CancellationToken cancellationToken)
        {
            await Task.Delay(System.Threading.Timeout.Infinite, cancellationToken);
            return 0;
        }

        public async ValueTask<int> SendBatchAsync(PacketBatch batch, CancellationToken cancellationToken)
        {
            await Task.Delay(System.Threading.Timeout.Infinite, cancellationToken);
            return 0;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
