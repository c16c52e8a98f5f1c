using TunTap.Netlink;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using TunTap.Buffers;
using TunTap.Devices;
using TunTap.TestKit;
using static TunTap.IntegrationTests.Devices.DeviceFixture;

namespace TunTap.IntegrationTests.Devices;

public sealed class TunDeviceDataPathTests
{
    private static readonly IPAddress KernelSide = IPAddress.Parse("10.77.0.1");
    private static readonly IPAddress FarSide = IPAddress.Parse("10.77.0.2");

    [Fact]
    public async Task Read_returns_the_ipv4_packet_the_kernel_sends_into_the_tun()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("io");
        var ns = scope.Names[0];
        await using var device = CreateIn(ns, new TunDeviceOptions { Name = "tt-io", Mode = DeviceMode.Tun });
        await UpWithAddressAsync(ns, "tt-io", "10.77.0.1/24");

        var payload = Encoding.ASCII.GetBytes("hello through the tun " + ns);
        SendFromNamespace(ns, payload, FarSide, 9);

        using var batch = new PacketBatch(8, 2048, headroom: 32);
        var packet = await ReadUntilAsync(device, batch, p => Ipv4Udp.UdpPayloadTo(p, FarSide, 9));
        Assert.Equal(payload, packet);
    }

    [Fact]
    public async Task Written_ipv4_packet_reaches_a_socket_in_the_namespace()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("io");
        var ns = scope.Names[0];
        await using var device = CreateIn(ns, new TunDeviceOptions { Name = "tt-io", Mode = DeviceMode.Tun });
        await UpWithAddressAsync(ns, "tt-io", "10.77.0.1/24");
        using var receiver = BindInNamespace(ns, KernelSide, 5555);

        var payload = Encoding.ASCII.GetBytes("hello from userspace");
        using var batch = new PacketBatch(4, 2048, headroom: 16);
        Assert.True(batch.TryAdd(Ipv4Udp.Build(FarSide, KernelSide, 4444, 5555, payload)));
        Assert.Equal(1, await device.WriteBatchAsync(batch, TestContext.Current.CancellationToken));

        var (data, from) = Receive(receiver);
        Assert.Equal(payload, data);
        Assert.Equal(new IPEndPoint(FarSide, 4444), from);
    }

    [Fact]
    public async Task A_batch_of_32_writes_all_arrive()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("io");
        var ns = scope.Names[0];
        await using var device = CreateIn(ns, new TunDeviceOptions { Name = "tt-io", Mode = DeviceMode.Tun });
        await UpWithAddressAsync(ns, "tt-io", "10.77.0.1/24");
        using var receiver = BindInNamespace(ns, KernelSide, 5556);

        using var batch = new PacketBatch(32, 2048);
        for (var i = 0; i < 32; i++)
        {
            Assert.True(batch.TryAdd(Ipv4Udp.Build(FarSide, KernelSide, 4444, 5556, Encoding.ASCII.GetBytes($"packet {i}"), id: (ushort)(i + 1))));
        }

        Assert.Equal(32, await device.WriteBatchAsync(batch, TestContext.Current.CancellationToken));
        var seen = new HashSet<string>();
        for (var i = 0; i < 32; i++)
        {
            seen.Add(Encoding.ASCII.GetString(Receive(receiver).Data));
        }

        for (var i = 0; i < 32; i++)
        {
            Assert.Contains($"packet {i}", seen);
        }
    }

    [Fact]
    public async Task Malformed_packets_are_counted_as_rejected_not_thrown()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("io");
        var ns = scope.Names[0];
        await using var device = CreateIn(ns, new TunDeviceOptions { Name = "tt-io", Mode = DeviceMode.Tun });
        await UpWithAddressAsync(ns, "tt-io", "10.77.0.1/24");
        using var receiver = BindInNamespace(ns, KernelSide, 5557);

        using var batch = new PacketBatch(4, 2048);
        Assert.True(batch.TryAdd([]));
        Assert.True(batch.TryAdd(Ipv4Udp.Build(FarSide, KernelSide, 4444, 5557, "ok"u8)));
        var accepted = await device.WriteBatchAsync(batch, TestContext.Current.CancellationToken);

        // An empty write is refused by the kernel (EINVAL); the good packet after it still goes.
        Assert.Equal(1, accepted);
        Assert.Equal(1, device.Queues[0].RejectedWrites);
        Assert.Equal("ok"u8.ToArray(), Receive(receiver).Data);
    }

    [Fact]
    public async Task Vnet_header_device_prefixes_packets_with_the_virtio_header()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("io");
        var ns = scope.Names[0];
        await using var device = CreateIn(ns, new TunDeviceOptions { Name = "tt-vn", Mode = DeviceMode.Tun, VnetHeader = true, Offloads = TunOffloads.Checksum });
        await UpWithAddressAsync(ns, "tt-vn", "10.77.0.1/24");
        var payload = Encoding.ASCII.GetBytes("partial checksum please");
        SendFromNamespace(ns, payload, FarSide, 9);

        using var batch = new PacketBatch(8, 2048);
        var header = await ReadUntilAsync(device, batch, p =>
            p.Length > VirtioNetHeader.Size && Ipv4Udp.UdpPayloadTo(p[VirtioNetHeader.Size..], FarSide, 9) is not null
                ? p[..VirtioNetHeader.Size].ToArray()
                : null);
        Assert.True(VirtioNetHeader.TryCreate(header, out var vnet));

        // With checksum offload accepted, the kernel leaves the UDP checksum for us: it starts
        // after the 20-byte IPv4 header and goes 6 bytes in.
        Assert.Equal(VirtioNetHeaderFlags.NeedsChecksum, vnet.Flags);
        Assert.Equal(VirtioGsoType.None, vnet.GsoType);
        Assert.Equal(20, vnet.ChecksumStart);
        Assert.Equal(6, vnet.ChecksumOffset);

        // And a packet we write needs the header in front too.
        using var receiver = BindInNamespace(ns, KernelSide, 5558);
        using var outgoing = new PacketBatch(1, 2048);
        var ip = Ipv4Udp.Build(FarSide, KernelSide, 4444, 5558, "vnet in"u8);
        var framed = new byte[VirtioNetHeader.Size + ip.Length];
        VirtioNetHeader.None.Write(framed);
        ip.CopyTo(framed, VirtioNetHeader.Size);
        Assert.True(outgoing.TryAdd(framed));
        Assert.Equal(1, await device.WriteBatchAsync(outgoing, TestContext.Current.CancellationToken));
        Assert.Equal("vnet in"u8.ToArray(), Receive(receiver).Data);
    }

    [Fact]
    public async Task Cancelling_a_pending_read_completes_promptly()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("io");
        await using var device = CreateIn(scope.Names[0], new TunDeviceOptions { Name = "tt-idle", Mode = DeviceMode.Tun });
        using var batch = new PacketBatch(4, 2048);
        using var cts = new CancellationTokenSource();

        var pending = device.ReadBatchAsync(batch, cts.Token).AsTask();
        await Task.Delay(100, TestContext.Current.CancellationToken);
        Assert.False(pending.IsCompleted);
        var clock = Stopwatch.StartNew();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"cancellation took {clock.Elapsed}");

        // The queue is usable again afterwards: a second read can wait, and be cancelled, too.
        using var again = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await device.ReadBatchAsync(batch, again.Token));
    }

    [Fact]
    public async Task Disposing_fails_a_pending_read()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("io");
        var device = CreateIn(scope.Names[0], new TunDeviceOptions { Name = "tt-idle", Mode = DeviceMode.Tun });
        using var batch = new PacketBatch(4, 2048);
        var pending = device.ReadBatchAsync(batch, TestContext.Current.CancellationToken).AsTask();
        await Task.Delay(50, TestContext.Current.CancellationToken);
        await device.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => pending.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Packets_flow_both_ways_on_every_queue_of_a_multi_queue_device()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("io");
        var ns = scope.Names[0];
        await using var device = CreateIn(ns, new TunDeviceOptions { Name = "tt-mq", Mode = DeviceMode.Tun, MultiQueue = true, QueueCount = 3 });
        await UpWithAddressAsync(ns, "tt-mq", "10.77.0.1/24");
        using var receiver = BindInNamespace(ns, KernelSide, 5559);
        foreach (var queue in device.Queues)
        {
            using var batch = new PacketBatch(1, 2048);
            Assert.True(batch.TryAdd(Ipv4Udp.Build(FarSide, KernelSide, 4444, 5559, Encoding.ASCII.GetBytes($"queue {queue.Index}"))));
            Assert.Equal(1, await queue.WriteBatchAsync(batch, TestContext.Current.CancellationToken));
            Assert.Equal($"queue {queue.Index}", Encoding.ASCII.GetString(Receive(receiver).Data));
        }
    }

    [Fact]
    public async Task Steady_state_reads_and_writes_allocate_nothing()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("io");
        var ns = scope.Names[0];
        await using var device = CreateIn(ns, new TunDeviceOptions { Name = "tt-alloc", Mode = DeviceMode.Tun });
        await UpWithAddressAsync(ns, "tt-alloc", "10.77.0.1/24");
        using var receiver = BindInNamespace(ns, KernelSide, 5560);
        receiver.ReceiveBufferSize = 1 << 20;
        using var outgoing = new PacketBatch(16, 2048);
        for (var i = 0; i < 16; i++)
        {
            Assert.True(outgoing.TryAdd(Ipv4Udp.Build(FarSide, KernelSide, 4444, 5560, "x"u8)));
        }

        // Queue packets for the reader: datagrams routed out through the tun.
        QueueDatagramsIntoTheDevice(ns, 200);

        using var incoming = new PacketBatch(16, 2048);
        var token = TestContext.Current.CancellationToken;
        Assert.Equal(16, await device.WriteBatchAsync(outgoing, token)); // warm-up
        Assert.True(await device.ReadBatchAsync(incoming, token) > 0);

        var (written, read, allocated) = RunSynchronousRounds(device, outgoing, incoming, 8, token);
        Assert.Equal(8 * 16, written);
        Assert.True(read >= 8);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public async Task Blocking_calls_move_packets_allocate_nothing_and_leave_the_reactor_alone_until_an_async_call_waits()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("io");
        var ns = scope.Names[0];
        await using var device = await CreateQuietTunAsync(ns, "tt-block");
        var queue = device.Queues[0];
        using var receiver = BindInNamespace(ns, KernelSide, 5561);
        receiver.ReceiveBufferSize = 1 << 20;
        using var incoming = new PacketBatch(16, 2048);
        using var outgoing = new PacketBatch(16, 2048);
        for (var i = 0; i < 16; i++)
        {
            Assert.True(outgoing.TryAdd(Ipv4Udp.Build(FarSide, KernelSide, 4444, 5561, "x"u8)));
        }

        // Whatever the kernel sent when the device came up (IPv6 chatter) is read; then a read
        // with nothing there gives up after its timeout.
        var drained = 0;
        while (drained < 50 && queue.ReadBatch(incoming, TimeSpan.FromMilliseconds(200)) > 0)
        {
            drained++;
        }

        Assert.Equal(0, queue.ReadBatch(incoming, TimeSpan.FromMilliseconds(50)));

        var single = Ipv4Udp.Build(FarSide, KernelSide, 4444, 5561, "one"u8);
        Assert.True(queue.Write(single));
        Assert.Equal("one"u8.ToArray(), Receive(receiver).Data);
        Assert.Equal(16, queue.WriteBatch(outgoing));
        for (var i = 0; i < 16; i++)
        {
            Assert.Equal("x"u8.ToArray(), Receive(receiver).Data);
        }

        // The datagrams are in the device's queue when sendto returns, so waiting forever is safe here.
        QueueDatagramsIntoTheDevice(ns, 200);
        Assert.True(queue.ReadBatch(incoming, Timeout.InfiniteTimeSpan) > 0); // warm-up
        Assert.Throws<ArgumentOutOfRangeException>(() => queue.ReadBatch(incoming, TimeSpan.FromSeconds(-2)));
        var before = GC.GetAllocatedBytesForCurrentThread();
        var (singles, written, read) = (0, 0, 0);
        for (var round = 0; round < 8; round++)
        {
            singles += queue.Write(single) ? 1 : 0;
            written += queue.WriteBatch(outgoing);
            read += queue.ReadBatch(incoming, TimeSpan.FromSeconds(5));
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(8, singles);
        Assert.Equal(8 * 16, written);
        Assert.True(read >= 8);
        Assert.False(queue.IsRegisteredWithReactor, "blocking calls wait in poll(), not through the reactor");

        // An asynchronous read that has to wait registers the queue, and still sees what comes next.
        for (var i = 0; i < 200 && queue.ReadBatch(incoming, TimeSpan.Zero) > 0; i++)
        {
            // Drain what is left of the 200 datagrams.
        }

        var pending = device.ReadBatchAsync(incoming, TestContext.Current.CancellationToken);
        Assert.False(pending.IsCompleted);
        Assert.True(queue.IsRegisteredWithReactor);
        QueueDatagramsIntoTheDevice(ns, 1);
        Assert.True(await pending.AsTask().WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken) > 0);
    }

    [Fact]
    public async Task A_blocking_read_after_one_that_emptied_the_queue_waits_first_and_still_sees_every_packet()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("io");
        var ns = scope.Names[0];
        await using var device = await CreateQuietTunAsync(ns, "tt-empty");
        var queue = device.Queues[0];
        using var incoming = new PacketBatch(16, 2048);
        void Drain()
        {
            for (var i = 0; i < 100 && queue.ReadBatch(incoming, TimeSpan.FromMilliseconds(100)) > 0; i++)
            {
                // Whatever is queued (chatter from the device coming up, earlier datagrams).
            }
        }

        // TimeSpan.Zero after an empty read still reads what is there.
        Drain();
        QueueDatagramsIntoTheDevice(ns, 1);
        Assert.Equal(1, queue.ReadBatch(incoming, TimeSpan.Zero));

        // A timeout too short for a poll() after an empty read still reads what is there.
        Assert.Equal(0, queue.ReadBatch(incoming, TimeSpan.Zero));
        QueueDatagramsIntoTheDevice(ns, 3);
        Assert.Equal(3, queue.ReadBatch(incoming, TimeSpan.FromTicks(1)));

        // Queued before the call: the wait returns at once and the read takes all of them.
        Drain();
        QueueDatagramsIntoTheDevice(ns, 5);
        Assert.Equal(5, queue.ReadBatch(incoming, TimeSpan.FromSeconds(5)));

        // Arriving during the wait: it wakes the reader.
        Drain();
        var late = Task.Run(async () =>
        {
            await Task.Delay(200, TestContext.Current.CancellationToken);
            QueueDatagramsIntoTheDevice(ns, 1);
        }, TestContext.Current.CancellationToken);
        Assert.Equal(1, queue.ReadBatch(incoming, TimeSpan.FromSeconds(10)));
        await late;

        // Nothing arriving: the time still runs out.
        Assert.Equal(0, queue.ReadBatch(incoming, TimeSpan.FromMilliseconds(50)));
    }

    /// <summary>Sends <paramref name="count"/> one-byte datagrams from the namespace to the far side, i.e. into the device.</summary>
    private static void QueueDatagramsIntoTheDevice(string ns, int count) =>
        NetworkNamespace.Run(ns, () =>
        {
            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            var to = new IPEndPoint(FarSide, 9);
            for (var i = 0; i < count; i++)
            {
                udp.SendTo("y"u8, to);
            }
        });

#pragma warning disable CA2012 // The ValueTasks are checked to have completed synchronously before their results are read.
    private static (int Written, int Read, long Allocated) RunSynchronousRounds(TunDevice device, PacketBatch outgoing, PacketBatch incoming, int rounds, CancellationToken token)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var written = 0;
        var read = 0;
        for (var round = 0; round < rounds; round++)
        {
            var write = device.WriteBatchAsync(outgoing, token);
            Assert.True(write.IsCompletedSuccessfully);
            written += write.Result;
            var next = device.ReadBatchAsync(incoming, token);
            Assert.True(next.IsCompletedSuccessfully, "packets were queued, so the read completes synchronously");
            read += next.Result;
        }

        return (written, read, GC.GetAllocatedBytesForCurrentThread() - before);
    }
#pragma warning restore CA2012

    private static void SendFromNamespace(string ns, byte[] payload, IPAddress to, int port) =>
        NetworkNamespace.Run(ns, () =>
        {
            using var udp = new UdpClient(AddressFamily.InterNetwork);
            udp.Send(payload, new IPEndPoint(to, port));
        });

    private static Socket BindInNamespace(string ns, IPAddress address, int port) =>
        NetworkNamespace.Run(ns, () =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 5000 };
            socket.Bind(new IPEndPoint(address, port));
            return socket;
        });

    private static (byte[] Data, IPEndPoint From) Receive(Socket socket)
    {
        var buffer = new byte[2048];
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        var length = socket.ReceiveFrom(buffer, ref from);
        return (buffer[..length], (IPEndPoint)from);
    }

    private delegate byte[]? PacketMatch(ReadOnlySpan<byte> packet);

    /// <summary>Reads batches (at most 5 s) until a packet matches; other traffic (IPv6 chatter) is skipped.</summary>
    private static async Task<byte[]> ReadUntilAsync(TunDevice device, PacketBatch batch, PacketMatch match)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        for (var round = 0; round < 100; round++)
        {
            var count = await device.ReadBatchAsync(batch, timeout.Token);
            Assert.Equal(count, batch.Count);
            Assert.InRange(count, 1, batch.Capacity);
            for (var i = 0; i < count; i++)
            {
                if (match(batch[i]) is { } found)
                {
                    return found;
                }
            }
        }

        throw new Xunit.Sdk.XunitException("no matching packet in 100 batches");
    }
}
