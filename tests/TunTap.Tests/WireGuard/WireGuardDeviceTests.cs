using TunTap.TestKit;
using TunTap.WireGuard;
using static TunTap.Tests.WireGuard.DevicePair;

namespace TunTap.Tests.WireGuard;

public sealed class WireGuardDeviceTests
{
    [Fact]
    public async Task Two_devices_handshake_and_pass_packets_both_ways()
    {
        await using var pair = DevicePair.Create();
        var ping = Ipv4("10.0.0.1", "10.0.0.2", 56);
        pair.TunA.Inject(ping);
        Assert.Equal(ping, await pair.TunB.ReadWrittenAsync(Patience));

        var pong = Ipv4("10.0.0.2", "10.0.0.1", 56, seed: 9);
        pair.TunB.Inject(pong);
        Assert.Equal(pong, await pair.TunA.ReadWrittenAsync(Patience));

        Assert.Equal(1, pair.A.Counters.HandshakeInitiationsSent);
        Assert.Equal(1, pair.B.Counters.HandshakeResponsesSent);
        Assert.NotNull(pair.PeerBAtA.LastHandshake);
        Assert.NotNull(pair.PeerAAtB.LastHandshake);
        // B learned A's endpoint from the handshake (it had none configured).
        Assert.Equal(pair.UdpA.Port, pair.PeerAAtB.Endpoint!.Port);
    }

    [Fact]
    public async Task Many_packets_of_every_size_arrive_intact_and_in_order()
    {
        await using var pair = DevicePair.Create();
        pair.TunA.Inject(Ipv4("10.0.0.1", "10.0.0.2", 1));
        await pair.TunB.ReadWrittenAsync(Patience);

        // Windows of 16 packets each way: loopback UDP may drop a larger unpaced burst.
        var sizes = Enumerable.Range(0, 201).Select(i => i * 7).ToArray();
        foreach (var window in sizes.Chunk(16))
        {
            foreach (var size in window)
            {
                pair.TunA.Inject(Ipv4("10.0.0.1", "10.0.0.2", size, (byte)size));
                pair.TunB.Inject(Ipv4("10.0.0.2", "10.0.0.1", size, (byte)(size + 1)));
            }

            foreach (var size in window)
            {
                Assert.Equal(Ipv4("10.0.0.1", "10.0.0.2", size, (byte)size), await pair.TunB.ReadWrittenAsync(Patience));
                Assert.Equal(Ipv4("10.0.0.2", "10.0.0.1", size, (byte)(size + 1)), await pair.TunA.ReadWrittenAsync(Patience));
            }
        }

        Assert.Equal(1, pair.A.Counters.HandshakesCompleted);
        Assert.Equal(0, pair.A.Counters.Dropped);
        Assert.Equal(0, pair.B.Counters.Dropped);
    }

    [Fact]
    public async Task Ipv6_packets_are_routed_by_allowed_ips()
    {
        await using var pair = DevicePair.Create();
        var packet = Ipv6("fd00::1", "fd00::2", 100);
        pair.TunA.Inject(packet);
        Assert.Equal(packet, await pair.TunB.ReadWrittenAsync(Patience));
    }

    [Fact]
    public async Task Packets_without_a_route_are_dropped_and_counted()
    {
        await using var pair = DevicePair.Create();
        pair.TunA.Inject(Ipv4("10.0.0.1", "10.9.9.9", 20));
        pair.TunA.Inject([0x45, 0, 0]);
        await Wait.UntilAsync(() => pair.A.Counters.DroppedNoRoute == 2, Patience);
        Assert.Equal(0, pair.A.Counters.HandshakeInitiationsSent);
    }

    [Fact]
    public async Task Decrypted_packets_with_a_source_outside_the_peers_allowed_ips_are_dropped()
    {
        await using var pair = DevicePair.Create();
        pair.TunA.Inject(Ipv4("10.0.0.1", "10.0.0.2", 10));
        await pair.TunB.ReadWrittenAsync(Patience);

        pair.TunB.Inject(Ipv4("10.0.0.99", "10.0.0.1", 10)); // B claims an address that is not B's
        pair.TunB.Inject(Ipv4("10.0.0.2", "10.0.0.1", 10, seed: 3));
        var delivered = await pair.TunA.ReadWrittenAsync(Patience);
        Assert.Equal(Ipv4("10.0.0.2", "10.0.0.1", 10, seed: 3), delivered);
        Assert.Equal(1, pair.A.Counters.DroppedSourceNotAllowed);
    }

    [Fact]
    public async Task Mismatched_preshared_keys_never_deliver_anything()
    {
        await using var pair = DevicePair.Create(psk: WireGuardKey.GeneratePresharedKey(), pskAtB: WireGuardKey.GeneratePresharedKey());
        pair.TunA.Inject(Ipv4("10.0.0.1", "10.0.0.2", 10));
        await Wait.UntilAsync(() => pair.B.Counters.HandshakeResponsesSent == 1 && pair.A.Counters.DroppedInvalidMessage >= 1, Patience);
        Assert.Equal(0, pair.A.Counters.HandshakesCompleted);
        Assert.Equal(0, pair.TunB.WrittenPackets);
    }

    [Fact]
    public async Task Responder_under_load_answers_with_a_cookie_and_the_retry_with_mac2_succeeds()
    {
        await using var pair = DevicePair.Create(cookieThresholdAtB: 0);
        var ping = Ipv4("10.0.0.1", "10.0.0.2", 32);
        pair.TunA.Inject(ping);
        await Wait.UntilAsync(() => pair.B.Counters.CookieRepliesSent == 1 && pair.PeerBAtA.Cookies.HasFreshCookie, Patience);
        Assert.Equal(0, pair.B.Counters.HandshakeResponsesSent);

        // The retransmission timer (5 s + jitter) resends the initiation, now with MAC2.
        pair.Time.Advance(TimeSpan.FromSeconds(5.4));
        Assert.Equal(ping, await pair.TunB.ReadWrittenAsync(Patience));
        Assert.Equal(1, pair.B.Counters.CookieRepliesSent);
        Assert.Equal(2, pair.A.Counters.HandshakeInitiationsSent);
    }

    [Fact]
    public async Task Keepalive_follows_received_data_after_ten_seconds_of_silence()
    {
        await using var pair = DevicePair.Create();
        pair.TunA.Inject(Ipv4("10.0.0.1", "10.0.0.2", 10));
        await pair.TunB.ReadWrittenAsync(Patience);
        var before = pair.A.Counters.KeepalivesReceived;

        // B arms its keepalive timer while handling the data, before it counts the packet: once
        // counted, the timer runs on the fake clock and nothing depends on how busy the machine is.
        await Wait.UntilAsync(() => pair.B.Counters.DataPacketsReceived >= 1, Patience);
        pair.Time.Advance(TimeSpan.FromSeconds(9));
        await Task.Delay(200, TestContext.Current.CancellationToken);
        Assert.Equal(before, pair.A.Counters.KeepalivesReceived);

        var seconds = 9;
        while (pair.A.Counters.KeepalivesReceived == before && seconds < 12)
        {
            pair.Time.Advance(TimeSpan.FromSeconds(1));
            seconds++;
            var deadline = DateTime.UtcNow.AddSeconds(3);
            while (pair.A.Counters.KeepalivesReceived == before && DateTime.UtcNow < deadline)
            {
                await Task.Delay(10, TestContext.Current.CancellationToken);
            }
        }

        Assert.Equal(before + 1, pair.A.Counters.KeepalivesReceived);
        Assert.InRange(seconds, 10, 12);
    }

    [Fact]
    public async Task Initiator_rekeys_after_120_seconds_and_traffic_continues()
    {
        await using var pair = DevicePair.Create();
        pair.TunA.Inject(Ipv4("10.0.0.1", "10.0.0.2", 10));
        await pair.TunB.ReadWrittenAsync(Patience);

        pair.Time.Advance(TimeSpan.FromSeconds(121));
        pair.TunA.Inject(Ipv4("10.0.0.1", "10.0.0.2", 10, seed: 1));
        await pair.TunB.ReadWrittenAsync(Patience); // still sent with the old keys
        await Wait.UntilAsync(() => pair.A.Counters.HandshakesCompleted == 2, Patience);

        pair.TunA.Inject(Ipv4("10.0.0.1", "10.0.0.2", 10, seed: 2));
        Assert.Equal(Ipv4("10.0.0.1", "10.0.0.2", 10, seed: 2), await pair.TunB.ReadWrittenAsync(Patience));
        pair.TunB.Inject(Ipv4("10.0.0.2", "10.0.0.1", 10, seed: 3));
        Assert.Equal(Ipv4("10.0.0.2", "10.0.0.1", 10, seed: 3), await pair.TunA.ReadWrittenAsync(Patience));
    }

    [Fact]
    public async Task Garbage_datagrams_are_counted_and_the_tunnel_keeps_working()
    {
        await using var pair = DevicePair.Create();
        using var attacker = new System.Net.Sockets.UdpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        var target = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, pair.UdpB.Port);
        var random = new Random(5);
        var sizes = new[] { 0, 1, 3, 4, 31, 32, 64, 92, 148, 200, 1500 };
        foreach (var size in sizes)
        {
            foreach (var type in new byte[] { 1, 2, 3, 4, 9 })
            {
                var junk = new byte[size];
                random.NextBytes(junk);
                if (size >= 4)
                {
                    junk[0] = type;
                    junk[1] = junk[2] = junk[3] = 0;
                }

                await attacker.SendAsync(junk, target, TestContext.Current.CancellationToken);
            }
        }

        await Wait.UntilAsync(() => pair.B.Counters.DroppedInvalidMessage >= sizes.Length * 5 - 10, Patience, () => $"{pair.B.Counters.DroppedInvalidMessage} dropped");
        var ping = Ipv4("10.0.0.1", "10.0.0.2", 40);
        pair.TunA.Inject(ping);
        Assert.Equal(ping, await pair.TunB.ReadWrittenAsync(Patience));
        Assert.Equal(1, pair.B.Counters.HandshakesCompleted);
    }
}
