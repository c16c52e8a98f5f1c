using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using TunTap.Capture;
using TunTap.Devices;
using TunTap.Interop;
using TunTap.TestKit;
using TunTap.Tunnel;
using TunTap.Wire;

namespace TunTap.Tests.Tunnel;

/// <summary>Two whole endpoints over loopback sockets with in-memory devices: the tunnel end to end, no root.</summary>
public sealed class TunnelEndpointTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public static TheoryData<TunnelTransport, bool> TransportsAndCompression => new()
    {
        { TunnelTransport.Tcp, false },
        { TunnelTransport.Tcp, true },
        { TunnelTransport.Udp, false },
        { TunnelTransport.Udp, true },
    };

    public static TheoryData<TunnelTransport> Transports => new() { TunnelTransport.Tcp, TunnelTransport.Udp };

    [Theory]
    [MemberData(nameof(TransportsAndCompression))]
    public async Task Packets_pass_both_ways(TunnelTransport transport, bool compress)
    {
        var serverDevice = new ChannelTun("srv0", DeviceMode.Tun);
        var clientDevice = new ChannelTun("cli0", DeviceMode.Tun);
        await using var server = await Running.ServerAsync(serverDevice, Options(transport) with { Compress = compress });
        await using var client = Running.Client(clientDevice, Options(transport, server.Port) with { Compress = compress });
        await WaitConnectedAsync(server, client);

        var packets = SamplePackets(seed: 1, count: 100);
        foreach (var packet in packets)
        {
            serverDevice.Inject(packet);
        }

        foreach (var packet in packets)
        {
            Assert.Equal(packet, await clientDevice.ReadWrittenAsync(Timeout));
        }

        var replies = SamplePackets(seed: 2, count: 100);
        foreach (var packet in replies)
        {
            clientDevice.Inject(packet);
        }

        foreach (var packet in replies)
        {
            Assert.Equal(packet, await serverDevice.ReadWrittenAsync(Timeout));
        }

        var bytes = packets.Sum(p => (long)p.Length);
        // Counters are updated after the send returns, possibly after the peer already delivered.
        await Wait.UntilAsync(() => server.Endpoint.Counters.TxPackets == 100 && client.Endpoint.Counters.TxPackets == 100 && server.Endpoint.Counters.RxPackets == 100 && client.Endpoint.Counters.RxPackets == 100, Timeout, () => Describe(server, client));
        Assert.Equal(100, server.Endpoint.Counters.TxPackets);
        Assert.Equal(bytes, server.Endpoint.Counters.TxBytes);
        Assert.Equal(100, client.Endpoint.Counters.RxPackets);
        Assert.Equal(bytes, client.Endpoint.Counters.RxBytes);
        Assert.Equal(100, client.Endpoint.Counters.TxPackets);
        Assert.Equal(100, server.Endpoint.Counters.RxPackets);
        Assert.Equal(0, server.Endpoint.Counters.Dropped);
        Assert.Equal(0, client.Endpoint.Counters.Dropped);
        if (compress)
        {
            // Half the sample packets are highly repetitive: the wire carries less than the packets.
            Assert.True(server.Endpoint.Counters.TxWireBytes < bytes, $"wire {server.Endpoint.Counters.TxWireBytes} vs packets {bytes}");
        }
        else
        {
            Assert.Equal(bytes + (100 * TunnelFrame.HeaderSize), server.Endpoint.Counters.TxWireBytes);
        }
    }

    [Fact]
    public async Task Tap_frames_up_to_mtu_plus_ethernet_header_pass()
    {
        var serverDevice = new ChannelTun("srv0", DeviceMode.Tap);
        var clientDevice = new ChannelTun("cli0", DeviceMode.Tap);
        var options = Options(TunnelTransport.Tcp) with { Mode = DeviceMode.Tap, Mtu = 1500 };
        await using var server = await Running.ServerAsync(serverDevice, options);
        await using var client = Running.Client(clientDevice, Options(TunnelTransport.Tcp, server.Port) with { Mode = DeviceMode.Tap });
        await WaitConnectedAsync(server, client);

        var frame = new byte[1518];
        new Random(5).NextBytes(frame);
        clientDevice.Inject(frame);
        Assert.Equal(frame, await serverDevice.ReadWrittenAsync(Timeout));
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Restarted_client_gets_traffic_flowing_again_without_restarting_the_server(TunnelTransport transport)
    {
        var serverDevice = new ChannelTun("srv0", DeviceMode.Tun);
        var clientDevice = new ChannelTun("cli0", DeviceMode.Tun);
        await using var server = await Running.ServerAsync(serverDevice, Options(transport));
        var first = Running.Client(clientDevice, Options(transport, server.Port));
        await WaitConnectedAsync(server, first);
        serverDevice.Inject(Packet(1));
        Assert.Equal(Packet(1), await clientDevice.ReadWrittenAsync(Timeout));

        await first.DisposeAsync();
        Assert.True(first.Task.IsCompletedSuccessfully, "a cancelled endpoint returns normally");

        await using var second = Running.Client(clientDevice, Options(transport, server.Port) with { Seed = 2 });
        await Wait.UntilAsync(() => server.Endpoint.Counters.Connections == 2 && second.Endpoint.Counters.IsConnected, Timeout, () => Describe(server, second));
        Assert.Equal(1, server.Endpoint.Counters.Reconnects);

        serverDevice.Inject(Packet(2));
        Assert.Equal(Packet(2), await clientDevice.ReadWrittenAsync(Timeout));
        clientDevice.Inject(Packet(3));
        Assert.Equal(Packet(3), await serverDevice.ReadWrittenAsync(Timeout));
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Client_keeps_retrying_until_the_server_appears(TunnelTransport transport)
    {
        var port = FreePort(transport);
        var serverDevice = new ChannelTun("srv0", DeviceMode.Tun);
        var clientDevice = new ChannelTun("cli0", DeviceMode.Tun);
        var log = new ConcurrentQueue<string>();
        await using var client = Running.Client(clientDevice, Options(transport, port), log);
        await Wait.UntilAsync(() => log.Count(l => l.Contains("failed", StringComparison.Ordinal) || l.Contains("dropped", StringComparison.Ordinal)) >= 2, Timeout, () => string.Join("\n", log));
        Assert.False(client.Endpoint.Counters.IsConnected);

        await using var server = await Running.ServerAsync(serverDevice, Options(transport) with { Listen = new IPEndPoint(IPAddress.Loopback, port) });
        await WaitConnectedAsync(server, client);
        clientDevice.Inject(Packet(7));
        Assert.Equal(Packet(7), await serverDevice.ReadWrittenAsync(Timeout));
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Mode_mismatch_fails_both_ends_naming_both_values(TunnelTransport transport)
    {
        var server = await Running.ServerAsync(new ChannelTun("srv0", DeviceMode.Tun), Options(transport));
        var client = Running.Client(new ChannelTun("cli0", DeviceMode.Tap), Options(transport, server.Port) with { Mode = DeviceMode.Tap });

        var serverError = await Assert.ThrowsAsync<TunnelMismatchException>(() => server.Task.WaitAsync(Timeout, TestContext.Current.CancellationToken));
        var clientError = await Assert.ThrowsAsync<TunnelMismatchException>(() => client.Task.WaitAsync(Timeout, TestContext.Current.CancellationToken));
        Assert.Equal("mode mismatch: this end is tun, the peer is tap", serverError.Message);
        Assert.Equal("mode mismatch: this end is tap, the peer is tun", clientError.Message);
        await server.DisposeAsync();
        await client.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Mtu_mismatch_fails_both_ends_naming_both_values(TunnelTransport transport)
    {
        var server = await Running.ServerAsync(new ChannelTun("srv0", DeviceMode.Tun), Options(transport) with { Mtu = 1400 });
        var client = Running.Client(new ChannelTun("cli0", DeviceMode.Tun), Options(transport, server.Port));

        var serverError = await Assert.ThrowsAsync<TunnelMismatchException>(() => server.Task.WaitAsync(Timeout, TestContext.Current.CancellationToken));
        var clientError = await Assert.ThrowsAsync<TunnelMismatchException>(() => client.Task.WaitAsync(Timeout, TestContext.Current.CancellationToken));
        Assert.Equal("MTU mismatch: this end has MTU 1400, the peer has MTU 1500", serverError.Message);
        Assert.Equal("MTU mismatch: this end has MTU 1500, the peer has MTU 1400", clientError.Message);
        await server.DisposeAsync();
        await client.DisposeAsync();
    }

    [Fact]
    public async Task Compression_mismatch_fails_both_ends()
    {
        var server = await Running.ServerAsync(new ChannelTun("srv0", DeviceMode.Tun), Options(TunnelTransport.Tcp) with { Compress = true });
        var client = Running.Client(new ChannelTun("cli0", DeviceMode.Tun), Options(TunnelTransport.Tcp, server.Port));
        var serverError = await Assert.ThrowsAsync<TunnelMismatchException>(() => server.Task.WaitAsync(Timeout, TestContext.Current.CancellationToken));
        var clientError = await Assert.ThrowsAsync<TunnelMismatchException>(() => client.Task.WaitAsync(Timeout, TestContext.Current.CancellationToken));
        Assert.Contains("this end has compression on, the peer has it off", serverError.Message, StringComparison.Ordinal);
        Assert.Contains("this end has compression off, the peer has it on", clientError.Message, StringComparison.Ordinal);
        await server.DisposeAsync();
        await client.DisposeAsync();
    }

    public static TheoryData<string, TunnelDropReason, string> GarbageStreams => new()
    {
        { "random", TunnelDropReason.Malformed, "not a tunnel peer" },
        { "huge-length", TunnelDropReason.Oversize, "frame length 65535 exceeds the maximum 1500" },
        { "huge-length-after-hello", TunnelDropReason.Oversize, "frame length 60000 exceeds the maximum 1500" },
        { "truncated", TunnelDropReason.Malformed, "closed in the middle of a frame" },
        { "silent", TunnelDropReason.LinkDown, "no hello within" },
    };

    [Theory]
    [MemberData(nameof(GarbageStreams))]
    public async Task Tcp_garbage_peer_is_dropped_with_a_reason_and_the_next_client_is_served(string kind, TunnelDropReason reason, string logged)
    {
        var serverDevice = new ChannelTun("srv0", DeviceMode.Tun);
        var clientDevice = new ChannelTun("cli0", DeviceMode.Tun);
        var log = new ConcurrentQueue<string>();
        await using var server = await Running.ServerAsync(serverDevice, Options(TunnelTransport.Tcp) with { HandshakeTimeout = TimeSpan.FromMilliseconds(300) }, log);

        using (var raw = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await raw.ConnectAsync(new IPEndPoint(IPAddress.Loopback, server.Port), TestContext.Current.CancellationToken);
            await raw.SendAsync(GarbageFor(kind), SocketFlags.None, TestContext.Current.CancellationToken);
            if (kind == "silent")
            {
                await Wait.UntilAsync(() => log.Any(l => l.Contains(logged, StringComparison.Ordinal)), Timeout, () => string.Join("\n", log));
            }
            else
            {
                raw.Shutdown(SocketShutdown.Send);
                await Wait.UntilAsync(() => log.Any(l => l.Contains(logged, StringComparison.Ordinal)), Timeout, () => string.Join("\n", log));
            }
        }

        Assert.Contains(log, l => l.Contains("dropped", StringComparison.Ordinal) && l.Contains(logged, StringComparison.Ordinal));
        if (reason != TunnelDropReason.LinkDown)
        {
            Assert.True(server.Endpoint.Counters.GetDropped(reason) >= 1, $"{reason} drops: {server.Endpoint.Counters.GetDropped(reason)}");
        }

        Assert.Equal(kind is "huge-length-after-hello" or "truncated" ? 1 : 0, server.Endpoint.Counters.Connections);
        Assert.False(server.Endpoint.Counters.IsConnected);

        await using var client = Running.Client(clientDevice, Options(TunnelTransport.Tcp, server.Port));
        await WaitConnectedAsync(server, client);
        clientDevice.Inject(Packet(4));
        Assert.Equal(Packet(4), await serverDevice.ReadWrittenAsync(Timeout));
        serverDevice.Inject(Packet(5));
        Assert.Equal(Packet(5), await clientDevice.ReadWrittenAsync(Timeout));
    }

    [Fact]
    public async Task A_flood_of_silent_connections_is_refused_past_sixteen_and_a_client_is_served_after_it()
    {
        var serverDevice = new ChannelTun("srv0", DeviceMode.Tun);
        var clientDevice = new ChannelTun("cli0", DeviceMode.Tun);
        var log = new ConcurrentQueue<string>();
        await using var server = await Running.ServerAsync(serverDevice, Options(TunnelTransport.Tcp) with { HandshakeTimeout = TimeSpan.FromSeconds(30) }, log);
        var silent = new List<Socket>();
        try
        {
            for (var i = 0; i < 24; i++)
            {
                var raw = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                silent.Add(raw);
                await raw.ConnectAsync(new IPEndPoint(IPAddress.Loopback, server.Port), TestContext.Current.CancellationToken);
            }

            await Wait.UntilAsync(() => log.Count(l => l.Contains("refused: 16 connections are already in the hello", StringComparison.Ordinal)) >= 8, Timeout, () => string.Join("\n", log));
        }
        finally
        {
            foreach (var raw in silent)
            {
                raw.Dispose();
            }
        }

        // Closed before their hello: each held slot is given back, and a real client gets in.
        await Wait.UntilAsync(() => log.Count(l => l.Contains("dropped", StringComparison.Ordinal)) >= 16, Timeout, () => string.Join("\n", log));
        await using var client = Running.Client(clientDevice, Options(TunnelTransport.Tcp, server.Port));
        await WaitConnectedAsync(server, client);
        clientDevice.Inject(Packet(6));
        Assert.Equal(Packet(6), await serverDevice.ReadWrittenAsync(Timeout));
    }

    [Fact]
    public async Task Udp_garbage_datagrams_are_counted_and_a_good_client_is_served()
    {
        var serverDevice = new ChannelTun("srv0", DeviceMode.Tun);
        var clientDevice = new ChannelTun("cli0", DeviceMode.Tun);
        await using var server = await Running.ServerAsync(serverDevice, Options(TunnelTransport.Udp));
        using (var raw = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            var target = new IPEndPoint(IPAddress.Loopback, server.Port);
            var random = new Random(11);
            for (var i = 0; i < 50; i++)
            {
                var garbage = new byte[random.Next(0, 1400)];
                random.NextBytes(garbage);
                garbage[0] = (byte)(garbage[0] % 2 == 0 ? 9 : 3);
                await raw.SendToAsync(garbage, SocketFlags.None, target, TestContext.Current.CancellationToken);
            }

            // A frame announcing more than the maximum packet (one datagram may hold several frames with UDP GRO, so the header decides).
            var huge = new byte[3000];
            TunnelFrame.WriteHeader(huge, TunnelFrameType.Data, TunnelFrameFlags.None, huge.Length - TunnelFrame.HeaderSize);
            await raw.SendToAsync(huge, SocketFlags.None, target, TestContext.Current.CancellationToken);
            var data = new byte[TunnelFrame.HeaderSize + 20];
            TunnelFrame.WriteData(new byte[20], data, compress: false);
            await raw.SendToAsync(data, SocketFlags.None, target, TestContext.Current.CancellationToken);
            await Wait.UntilAsync(() => server.Endpoint.Counters.Dropped >= 52, Timeout, () => $"dropped {server.Endpoint.Counters.Dropped}");
        }

        Assert.Equal(1, server.Endpoint.Counters.GetDropped(TunnelDropReason.Oversize));
        Assert.Equal(1, server.Endpoint.Counters.GetDropped(TunnelDropReason.UnknownPeer));
        Assert.Equal(50, server.Endpoint.Counters.GetDropped(TunnelDropReason.Malformed));
        Assert.Equal(0, serverDevice.WrittenPackets);

        await using var client = Running.Client(clientDevice, Options(TunnelTransport.Udp, server.Port));
        await WaitConnectedAsync(server, client);
        clientDevice.Inject(Packet(6));
        Assert.Equal(Packet(6), await serverDevice.ReadWrittenAsync(Timeout));
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Packets_read_while_the_link_is_down_are_counted_not_queued(TunnelTransport transport)
    {
        var serverDevice = new ChannelTun("srv0", DeviceMode.Tun);
        var clientDevice = new ChannelTun("cli0", DeviceMode.Tun);
        await using var server = await Running.ServerAsync(serverDevice, Options(transport));
        for (var i = 0; i < 5; i++)
        {
            serverDevice.Inject(Packet(i));
        }

        await Wait.UntilAsync(() => server.Endpoint.Counters.GetDropped(TunnelDropReason.LinkDown) == 5, Timeout, () => $"link-down drops {server.Endpoint.Counters.GetDropped(TunnelDropReason.LinkDown)}");

        await using var client = Running.Client(clientDevice, Options(transport, server.Port));
        await WaitConnectedAsync(server, client);
        serverDevice.Inject(Packet(9));
        Assert.Equal(Packet(9), await clientDevice.ReadWrittenAsync(Timeout));
        Assert.False(clientDevice.Written.TryRead(out _), "packets dropped while down must not arrive later");
        await Wait.UntilAsync(() => server.Endpoint.Counters.TxPackets == 1, Timeout, () => $"tx {server.Endpoint.Counters.TxPackets}");
    }

    [Fact]
    public async Task Capture_records_packets_crossing_the_device_both_ways()
    {
        var serverDevice = new ChannelTun("srv0", DeviceMode.Tun);
        var clientDevice = new ChannelTun("cli0", DeviceMode.Tun);
        using var stream = new MemoryStream();
        using var writer = new PcapWriter(stream, PcapLinkType.Raw);
        await using (var server = await Running.ServerAsync(serverDevice, Options(TunnelTransport.Tcp), capture: writer))
        await using (var client = Running.Client(clientDevice, Options(TunnelTransport.Tcp, server.Port)))
        {
            await WaitConnectedAsync(server, client);
            for (var i = 0; i < 3; i++)
            {
                serverDevice.Inject(Packet(i));
                clientDevice.Inject(Packet(10 + i));
                Assert.Equal(Packet(i), await clientDevice.ReadWrittenAsync(Timeout));
                Assert.Equal(Packet(10 + i), await serverDevice.ReadWrittenAsync(Timeout));
            }
        }

        stream.Position = 0;
        using var reader = new PcapReader(stream);
        var lengths = new List<int>();
        while (reader.TryRead(out var record))
        {
            lengths.Add(record.Data.Length);
        }

        lengths.Sort();
        Assert.Equal(new[] { 60, 61, 62, 70, 71, 72 }, lengths);
    }

    [Fact]
    public void Options_without_a_role_or_with_a_bad_mtu_are_rejected()
    {
        var device = new ChannelTun("x0", DeviceMode.Tun);
        Assert.Throws<TunTapException>(() => new TunnelEndpoint(device, new TunnelOptions()));
        Assert.Throws<TunTapException>(() => new TunnelEndpoint(device, Options(TunnelTransport.Tcp) with { Mtu = 10 }));
        var modeError = Assert.Throws<TunTapException>(() => new TunnelEndpoint(device, Options(TunnelTransport.Tcp) with { Mode = DeviceMode.Tap }));
        Assert.Contains("x0 is tun", modeError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Super_packets_cross_tcp_whole_when_both_ends_have_offloads()
    {
        var serverDevice = new ChannelTun("srv0", DeviceMode.Tun);
        var clientDevice = new ChannelTun("cli0", DeviceMode.Tun);
        await using var server = await Running.ServerAsync(serverDevice, Options(TunnelTransport.Tcp) with { VnetHeader = true });
        await using var client = Running.Client(clientDevice, Options(TunnelTransport.Tcp, server.Port) with { VnetHeader = true });
        await WaitConnectedAsync(server, client);

        var payload = new byte[65_000];
        new Random(8).NextBytes(payload);
        var super = TcpPackets.WithHeader(TcpPackets.SuperHeader(false, false, 1448), TcpPackets.Build(false, false, payload, TcpFlags.Ack));
        serverDevice.Inject(super);
        Assert.Equal(super, await clientDevice.ReadWrittenAsync(Timeout));
        var small = TcpPackets.WithBlankHeader(Packet(4));
        clientDevice.Inject(small);
        Assert.Equal(small, await serverDevice.ReadWrittenAsync(Timeout));

        // Counters are updated after the send returns, possibly after the peer already delivered.
        await Wait.UntilAsync(() => client.Endpoint.Counters.RxOffloadPackets == 1 && server.Endpoint.Counters.RxPackets == 1 && server.Endpoint.Counters.TxPackets == 1, Timeout, () => Describe(server, client));
        Assert.Equal(1, server.Endpoint.Counters.TxOffloadPackets);
        Assert.Equal(0, server.Endpoint.Counters.SegmentedPackets);
        Assert.Equal(super.Length - VirtioNetHeader.Size, server.Endpoint.Counters.TxBytes);
        Assert.Equal(super.Length + TunnelFrame.HeaderSizeFor(super.Length), server.Endpoint.Counters.TxWireBytes);
        Assert.Equal(0, server.Endpoint.Counters.Dropped + client.Endpoint.Counters.Dropped);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Super_packets_are_cut_for_a_peer_without_offloads_and_its_segments_coalesced_back(TunnelTransport transport)
    {
        // The server has offloads, the client has none (TCP), or the transport cannot carry super packets (UDP).
        var serverDevice = new ChannelTun("srv0", DeviceMode.Tap);
        var clientDevice = new ChannelTun("cli0", DeviceMode.Tap);
        var clientVnet = transport == TunnelTransport.Udp;
        await using var server = await Running.ServerAsync(serverDevice, Options(transport) with { Mode = DeviceMode.Tap, VnetHeader = true });
        await using var client = Running.Client(clientDevice, Options(transport, server.Port) with { Mode = DeviceMode.Tap, VnetHeader = clientVnet });
        await WaitConnectedAsync(server, client);

        var payload = new byte[20_000];
        new Random(9).NextBytes(payload);
        var plain = TcpPackets.Build(ipv6: true, tap: true, payload, TcpFlags.Ack | TcpFlags.Psh);
        serverDevice.Inject(TcpPackets.WithHeader(TcpPackets.SuperHeader(true, true, 1200), plain));
        var segments = (payload.Length + 1199) / 1200;
        var tcp = TcpPackets.TcpOffset(true, true);
        var received = new List<byte>();
        while (received.Count < payload.Length)
        {
            var packet = await clientDevice.ReadWrittenAsync(Timeout);
            var body = clientVnet ? packet.AsSpan(VirtioNetHeader.Size) : packet;
            if (!clientVnet)
            {
                Assert.True(TcpPackets.TcpChecksumValid(body, tap: true, ipv6: true));
                Assert.True(body.Length <= 14 + 40 + 32 + 1200);
            }

            received.AddRange(body[(tcp + 32)..].ToArray());
        }

        Assert.Equal(payload, received.ToArray());
        Assert.Equal(1, server.Endpoint.Counters.SegmentedPackets);
        await Wait.UntilAsync(() => client.Endpoint.Counters.RxPackets == segments, Timeout, () => $"rx {client.Endpoint.Counters.RxPackets}; {Describe(server, client)}");

        // The other way: consecutive segments of one flow reach the offload end as one super packet.
        // The receiver merges what has arrived when it reads, so a round whose datagrams trickle in
        // one by one (a busy machine) may merge nothing: up to five rounds, one must merge.
        var coalesced = false;
        var written = 0;
        for (var round = 0; round < 5 && !coalesced; round++)
        {
            var segmentsOut = new List<byte[]>();
            for (var i = 0; i < 10; i++)
            {
                segmentsOut.Add(Plain(TcpPackets.Build(true, true, payload.AsSpan(i * 1000, 1000), TcpFlags.Ack, sequence: (uint)((round * 10_000) + (i * 1000))), clientVnet));
            }

            clientDevice.InjectAll(segmentsOut);
            received.Clear();
            written = 0;
            while (received.Count < 10_000)
            {
                var packet = await serverDevice.ReadWrittenAsync(Timeout);
                written++;
                received.AddRange(packet.AsSpan(VirtioNetHeader.Size + tcp + 32).ToArray());
            }

            Assert.Equal(payload.AsSpan(0, 10_000).ToArray(), received.ToArray());
            coalesced = written < 10;
        }

        Assert.True(coalesced, $"{written} packets written for 10 segments in the last of five rounds: nothing coalesced");
        // The counters are updated just after the device write the test has already seen.
        await Wait.UntilAsync(() => server.Endpoint.Counters.RxOffloadPackets >= 1, Timeout, () => Describe(server, client));
        Assert.Equal(0, server.Endpoint.Counters.Dropped + client.Endpoint.Counters.Dropped);

        static byte[] Plain(byte[] packet, bool vnet) => vnet ? TcpPackets.WithBlankHeader(packet) : packet;
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_super_packet_that_cannot_be_cut_is_dropped_as_malformed_and_not_counted_as_sent(TunnelTransport transport)
    {
        // The server's device has offloads and must cut its super packets: towards a client without
        // offloads (TCP) or because a datagram holds one segment (UDP). One that does not parse is
        // dropped; only what went to the peer counts as sent.
        var serverDevice = new ChannelTun("srv0", DeviceMode.Tun);
        var clientDevice = new ChannelTun("cli0", DeviceMode.Tun);
        var clientVnet = transport == TunnelTransport.Udp;
        await using var server = await Running.ServerAsync(serverDevice, Options(transport) with { VnetHeader = true });
        await using var client = Running.Client(clientDevice, Options(transport, server.Port) with { VnetHeader = clientVnet });
        await WaitConnectedAsync(server, client);

        // A TSO header in front of 3 000 zero bytes: IP version 0.
        serverDevice.Inject(TcpPackets.WithHeader(TcpPackets.SuperHeader(false, false, 1000), new byte[3000]));
        var good = Packet(1);
        serverDevice.Inject(TcpPackets.WithBlankHeader(good));
        Assert.Equal(clientVnet ? TcpPackets.WithBlankHeader(good) : good, await clientDevice.ReadWrittenAsync(Timeout));

        await Wait.UntilAsync(() => server.Endpoint.Counters.TxPackets >= 1, Timeout, () => Describe(server, client));
        Assert.Equal(1, server.Endpoint.Counters.GetDropped(TunnelDropReason.Malformed));
        Assert.Equal(1, server.Endpoint.Counters.TxPackets);
        Assert.Equal(good.Length, server.Endpoint.Counters.TxBytes);
        Assert.Equal(0, server.Endpoint.Counters.SegmentedPackets);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Udp_segments_go_with_partial_checksums_only_to_a_peer_with_offloads(bool clientVnet)
    {
        var serverDevice = new ChannelTun("srv0", DeviceMode.Tun);
        var clientDevice = new ChannelTun("cli0", DeviceMode.Tun);
        await using var server = await Running.ServerAsync(serverDevice, Options(TunnelTransport.Udp) with { VnetHeader = true });
        await using var client = Running.Client(clientDevice, Options(TunnelTransport.Udp, server.Port) with { VnetHeader = clientVnet });
        await WaitConnectedAsync(server, client);
        Assert.True(server.Endpoint.Hello.Offload);
        Assert.Equal(clientVnet, client.Endpoint.Hello.Offload);

        var payload = new byte[12_000];
        new Random(4).NextBytes(payload);
        serverDevice.Inject(TcpPackets.WithHeader(TcpPackets.SuperHeader(false, false, 1000), TcpPackets.Build(false, false, payload, TcpFlags.Ack)));
        var received = new List<byte>();
        while (received.Count < payload.Length)
        {
            var packet = await clientDevice.ReadWrittenAsync(Timeout);
            var body = packet.AsSpan(clientVnet ? VirtioNetHeader.Size : 0).ToArray();
            if (clientVnet)
            {
                // Merged or alone, the kernel is asked to complete the checksum.
                Assert.True(VirtioNetHeader.TryCreate(packet, out var header));
                Assert.Equal(VirtioNetHeaderFlags.NeedsChecksum, header.Flags);
                Assert.Equal(20, header.ChecksumStart);
                Assert.True(GsoSegmenter.TryCompleteChecksum(body, header));
            }

            // Without offloads every segment arrives with its full checksum.
            Assert.True(TcpPackets.TcpChecksumValid(body, tap: false, ipv6: false));
            received.AddRange(body.AsSpan(20 + 32).ToArray());
        }

        Assert.Equal(payload, received.ToArray());
        Assert.Equal(0, server.Endpoint.Counters.Dropped + client.Endpoint.Counters.Dropped);
    }

    [Fact]
    public async Task Udp_client_keepalive_brings_a_restarted_server_back_without_reconnecting()
    {
        var serverDevice = new ChannelTun("srv0", DeviceMode.Tun);
        var clientDevice = new ChannelTun("cli0", DeviceMode.Tun);
        var first = await Running.ServerAsync(serverDevice, Options(TunnelTransport.Udp));
        var port = first.Port;
        await using var client = Running.Client(clientDevice, Options(TunnelTransport.Udp, port) with { KeepaliveInterval = TimeSpan.FromMilliseconds(100) });
        await WaitConnectedAsync(first, client);
        await first.DisposeAsync();

        // A keepalive to the closed port comes back as an ICMP port unreachable: logged, link kept.
        await Wait.UntilAsync(() => client.Log.Any(l => l.Contains("port unreachable", StringComparison.Ordinal)), Timeout, () => string.Join("\n", client.Log));

        var restartedDevice = new ChannelTun("srv1", DeviceMode.Tun);
        await using var restarted = await Running.ServerAsync(restartedDevice, Options(TunnelTransport.Udp) with { Listen = new IPEndPoint(IPAddress.Loopback, port) });
        await Wait.UntilAsync(() => restarted.Endpoint.Counters.IsConnected, Timeout, () => Describe(restarted, client));
        await Wait.UntilAsync(() => client.Log.Any(l => l.Contains("answering again", StringComparison.Ordinal)), Timeout, () => string.Join("\n", client.Log));
        clientDevice.Inject(Packet(7));
        Assert.Equal(Packet(7), await restartedDevice.ReadWrittenAsync(Timeout));
        Assert.Equal(0, client.Endpoint.Counters.Reconnects);
        Assert.DoesNotContain(client.Log, l => l.Contains("lost", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Udp_client_started_before_its_server_is_refused_at_once_and_connects_when_it_comes()
    {
        var port = FreePort(TunnelTransport.Udp);
        var clientDevice = new ChannelTun("cli0", DeviceMode.Tun);
        await using var client = Running.Client(clientDevice, Options(TunnelTransport.Udp, port));

        // Before the hello a refusal fails the attempt at once (not after the handshake timeout).
        await Wait.UntilAsync(() => client.Log.Any(l => l.Contains("failed", StringComparison.Ordinal) && l.Contains("ECONNREFUSED", StringComparison.Ordinal)), TimeSpan.FromSeconds(1.5), () => string.Join("\n", client.Log));

        var serverDevice = new ChannelTun("srv0", DeviceMode.Tun);
        await using var server = await Running.ServerAsync(serverDevice, Options(TunnelTransport.Udp) with { Listen = new IPEndPoint(IPAddress.Loopback, port) });
        await WaitConnectedAsync(server, client);
        clientDevice.Inject(Packet(3));
        Assert.Equal(Packet(3), await serverDevice.ReadWrittenAsync(Timeout));
    }

    [Fact]
    public void Udp_client_send_after_a_port_unreachable_sends_again_instead_of_failing_the_link()
    {
        var port = FreePort(TunnelTransport.Udp);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Connect(new IPEndPoint(IPAddress.Loopback, port));
        socket.Send([1]);

        // Nothing listens: the ICMP port unreachable leaves an error pending on the socket (POLLERR).
        Assert.True(DescriptorPoll.Wait(socket.SafeHandle, Libc.POLLIN, 5000));
        using var receiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 5000 };
        receiver.Bind(new IPEndPoint(IPAddress.Loopback, port));
        var endpoint = new TunnelEndpoint(new ChannelTun("x0", DeviceMode.Tun), Options(TunnelTransport.Udp, port));
        var link = new UdpPeerLink(socket, null, endpoint, "test");

        link.Send("frame"u8);

        var buffer = new byte[16];
        Assert.Equal("frame"u8.ToArray(), buffer.AsSpan(0, receiver.Receive(buffer)).ToArray());
    }

    [Fact]
    public void Batch_bytes_below_one_is_refused()
    {
        var device = new ChannelTun("x0", DeviceMode.Tun);
        var options = Options(TunnelTransport.Tcp) with { VnetHeader = true, BatchBytes = 0 };
        Assert.Throws<TunTapException>(() => new TunnelEndpoint(device, options));
    }

    [Theory]
    [InlineData("")]
    [InlineData("no such")]
    [InlineData("sixteen_letters_")]
    [InlineData("cubic\0")]
    public void Congestion_control_names_the_kernel_cannot_take_are_refused(string name)
    {
        var error = Assert.Throws<TunTapException>(() => (Options(TunnelTransport.Tcp) with { CongestionControl = name }).Validate());
        Assert.Contains("congestion control", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("cubic")]
    [InlineData("bbr")]
    [InlineData("fifteen_letters")]
    [InlineData(null)]
    public void Congestion_control_names_and_the_system_default_are_accepted(string? name) =>
        (Options(TunnelTransport.Tcp) with { CongestionControl = name }).Validate();

    [Theory]
    [InlineData(TunnelTransport.Udp, DeviceMode.Tun, 1468, true, 44)]
    [InlineData(TunnelTransport.Udp, DeviceMode.Tap, 1454, true, 44)]
    [InlineData(TunnelTransport.Udp, DeviceMode.Tun, 576, true, 64)]
    [InlineData(TunnelTransport.Udp, DeviceMode.Tun, 9000, true, 7)]
    [InlineData(TunnelTransport.Udp, DeviceMode.Tun, 1468, false, null)]
    [InlineData(TunnelTransport.Tcp, DeviceMode.Tun, 1500, true, null)]
    public void Over_udp_with_offloads_a_super_packet_holds_what_one_gso_send_carries(TunnelTransport transport, DeviceMode mode, int mtu, bool offload, int? expected)
    {
        var options = Options(transport) with { Mode = mode, Mtu = mtu, VnetHeader = offload };
        options.Validate();

        Assert.Equal(expected, options.DeviceGsoMaxSegments);
        if (expected is { } segments)
        {
            // That many whole datagrams (frame header + largest packet) fit one send of at most
            // 65 000 bytes and 64 segments, and one more would not (unless 64 is the cap).
            var datagram = TunnelFrame.HeaderSize + options.MaxPacketSize;
            Assert.True(segments * datagram <= 65_000 && segments <= 64);
            Assert.True(segments == 64 || (segments + 1) * datagram > 65_000);
        }
    }

    private static TunnelOptions Options(TunnelTransport transport, int connectPort = 0) => new()
    {
        Transport = transport,
        Listen = connectPort == 0 ? new IPEndPoint(IPAddress.Loopback, 0) : null,
        Connect = connectPort == 0 ? null : new DnsEndPoint("127.0.0.1", connectPort),
        MinBackoff = TimeSpan.FromMilliseconds(20),
        MaxBackoff = TimeSpan.FromMilliseconds(200),
        HandshakeTimeout = TimeSpan.FromSeconds(2),
    };

    private static byte[] Packet(int id)
    {
        var packet = new byte[60 + id];
        packet[0] = 0x45;
        packet[1] = (byte)id;
        return packet;
    }

    private static List<byte[]> SamplePackets(int seed, int count)
    {
        var random = new Random(seed);
        var packets = new List<byte[]>(count);
        for (var i = 0; i < count; i++)
        {
            var packet = new byte[random.Next(1, 1501)];
            if (i % 2 == 0)
            {
                random.NextBytes(packet);
            }
            else
            {
                for (var j = 0; j < packet.Length; j++)
                {
                    packet[j] = (byte)(j % 10);
                }
            }

            packets.Add(packet);
        }

        return packets;
    }

    private static byte[] GarbageFor(string kind)
    {
        var hello = new byte[TunnelFrame.HeaderSize + TunnelHello.Size];
        TunnelFrame.WriteHello(hello, TunnelFrameType.Hello, TunnelHello.For(DeviceMode.Tun, 1500, compress: false));
        switch (kind)
        {
            case "random":
                var random = new byte[1000];
                new Random(3).NextBytes(random);
                random[0] = 0xEE;
                return random;
            case "huge-length":
                return [1, 0, 0xFF, 0xFF, .. new byte[100]];
            case "huge-length-after-hello":
                return [.. hello, 3, 0, 0xEA, 0x60, .. new byte[100]];
            case "truncated":
                return [.. hello, 3, 0, 0, 100, .. new byte[10]];
            default:
                return [];
        }
    }

    private static int FreePort(TunnelTransport transport)
    {
        using var socket = transport == TunnelTransport.Tcp
            ? new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
            : new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private static Task WaitConnectedAsync(Running server, Running client) =>
        Wait.UntilAsync(() => server.Endpoint.Counters.IsConnected && client.Endpoint.Counters.IsConnected, Timeout, () => Describe(server, client));

    private static string Describe(Running server, Running client) =>
        $"server connected={server.Endpoint.Counters.IsConnected} connections={server.Endpoint.Counters.Connections} task={server.Task.Status}; " +
        $"client connected={client.Endpoint.Counters.IsConnected} task={client.Task.Status} {client.Task.Exception?.InnerException?.Message}; log: {string.Join(" | ", server.Log.Concat(client.Log))}";

    private sealed class Running : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();

        private Running(ChannelTun device, TunnelOptions options, ConcurrentQueue<string>? log, PcapWriter? capture = null)
        {
            Log = log ?? new ConcurrentQueue<string>();
            Endpoint = new TunnelEndpoint(device, options, log: Log.Enqueue, capture: capture);
            Task = Task.Run(() => Endpoint.RunAsync(_stop.Token));
        }

        public TunnelEndpoint Endpoint { get; }

        public Task Task { get; }

        public ConcurrentQueue<string> Log { get; }

        public int Port => Endpoint.BoundPort;

        public static async Task<Running> ServerAsync(ChannelTun device, TunnelOptions options, ConcurrentQueue<string>? log = null, PcapWriter? capture = null)
        {
            var running = new Running(device, options, log, capture);
            await running.Endpoint.Listening.WaitAsync(Timeout);
            return running;
        }

        public static Running Client(ChannelTun device, TunnelOptions options, ConcurrentQueue<string>? log = null) => new(device, options, log);

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await Task.WaitAsync(Timeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            Assert.True(Task.IsCompleted, "endpoint did not stop within the timeout");
            _stop.Dispose();
        }
    }
}
