using System.Net;
using System.Net.Sockets;
using TunTap.Devices;
using TunTap.TestKit;
using TunTap.WireGuard;
using TunTap.WireGuard.Uapi;

namespace TunTap.Tests.WireGuard;

public sealed class WireGuardInterfaceTests
{
    private static readonly WireGuardInterfaceOptions Loopback = new()
    {
        BindTransport = port => UdpSocketTransport.Bind(new IPEndPoint(IPAddress.Loopback, port)),
    };

    private static async Task<int> SetAsync(WireGuardInterface wg, params string[] lines)
    {
        var errno = UapiParser.TryParseSet(lines, out var request);
        return request is null ? errno : await wg.ApplyAsync(request);
    }

    private static Dictionary<string, List<string>> Fields(string text)
    {
        var fields = new Dictionary<string, List<string>>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var (key, value) = (line[..line.IndexOf('=', StringComparison.Ordinal)], line[(line.IndexOf('=', StringComparison.Ordinal) + 1)..]);
            if (!fields.TryGetValue(key, out var list))
            {
                fields[key] = list = [];
            }

            list.Add(value);
        }

        return fields;
    }

    [Fact]
    public async Task Get_reports_what_set_configured()
    {
        await using var tun = new ChannelTun("wgi", DeviceMode.Tun);
        await using var wg = new WireGuardInterface(tun, Loopback);
        await wg.StartAsync();
        Assert.Equal($"listen_port={wg.ListenPort}\n", wg.GetConfiguration());
        Assert.Null(wg.Device);

        var key = WireGuardKey.GeneratePrivateKey();
        var peer = WireGuardKey.GeneratePrivateKey().DerivePublicKey();
        var psk = WireGuardKey.GeneratePresharedKey();
        Assert.Equal(0, await SetAsync(wg, $"private_key={key.ToHex()}", "fwmark=7",
            $"public_key={peer.ToHex()}", $"preshared_key={psk.ToHex()}", "endpoint=[fd00::5]:4000", "persistent_keepalive_interval=0",
            "allowed_ip=10.0.0.0/24", "allowed_ip=fd00::2/128"));

        Assert.NotNull(wg.Device);
        Assert.Equal(key.DerivePublicKey(), wg.Device.PublicKey);
        var fields = Fields(wg.GetConfiguration());
        Assert.Equal([key.ToHex()], fields["private_key"]);
        Assert.Equal(["7"], fields["fwmark"]);
        Assert.Equal([peer.ToHex()], fields["public_key"]);
        Assert.Equal([psk.ToHex()], fields["preshared_key"]);
        Assert.Equal(["1"], fields["protocol_version"]);
        Assert.Equal(["[fd00::5]:4000"], fields["endpoint"]);
        Assert.Equal(["0"], fields["last_handshake_time_sec"]);
        Assert.Equal(["0"], fields["tx_bytes"]);
        Assert.Equal(["0"], fields["rx_bytes"]);
        Assert.Equal(["0"], fields["persistent_keepalive_interval"]);
        Assert.Equal(["10.0.0.0/24", "fd00::2/128"], fields["allowed_ip"]);
    }

    [Fact]
    public async Task Peers_are_updated_removed_and_replaced()
    {
        await using var tun = new ChannelTun("wgi", DeviceMode.Tun);
        await using var wg = new WireGuardInterface(tun, Loopback);
        await wg.StartAsync();
        var p1 = WireGuardKey.GeneratePrivateKey().DerivePublicKey().ToHex();
        var p2 = WireGuardKey.GeneratePrivateKey().DerivePublicKey().ToHex();
        Assert.Equal(0, await SetAsync(wg, $"private_key={WireGuardKey.GeneratePrivateKey().ToHex()}",
            $"public_key={p1}", "allowed_ip=10.0.0.1/32", $"public_key={p2}", "allowed_ip=10.0.0.2/32"));
        var device = wg.Device!;
        var live = device.GetPeers();
        Assert.Equal(2, live.Count);

        // The prefix moves from p1 to p2; p1 keeps its live peer object (its session survives).
        Assert.Equal(0, await SetAsync(wg, $"public_key={p2}", "allowed_ip=10.0.0.1/32", $"public_key={p1}", "persistent_keepalive_interval=30"));
        Assert.Same(device, wg.Device);
        var p1Live = device.GetPeers().Single(p => p.PublicKey.ToHex() == p1);
        Assert.Contains(p1Live, live);
        Assert.Empty(device.GetAllowedIps(p1Live));
        Assert.Equal(["10.0.0.1/32", "10.0.0.2/32"], Fields(wg.GetConfiguration())["allowed_ip"].Order());

        // update_only for an unknown peer does nothing; replace_allowed_ips; remove.
        var unknown = WireGuardKey.GeneratePrivateKey().DerivePublicKey().ToHex();
        Assert.Equal(0, await SetAsync(wg, $"public_key={unknown}", "update_only=true", "allowed_ip=10.9.9.9/32",
            $"public_key={p2}", "replace_allowed_ips=true", "allowed_ip=10.0.0.9/32", $"public_key={p1}", "remove=true"));
        var fields = Fields(wg.GetConfiguration());
        Assert.Equal([p2], fields["public_key"]);
        Assert.Equal(["10.0.0.9/32"], fields["allowed_ip"]);
        Assert.Single(device.GetPeers());

        Assert.Equal(0, await SetAsync(wg, "replace_peers=true"));
        Assert.False(Fields(wg.GetConfiguration()).ContainsKey("public_key"));
        Assert.Empty(device.GetPeers());
    }

    [Fact]
    public async Task Listen_port_rebinds_and_a_busy_port_changes_nothing()
    {
        await using var tun = new ChannelTun("wgi", DeviceMode.Tun);
        await using var wg = new WireGuardInterface(tun, Loopback);
        await wg.StartAsync();
        using var busy = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        busy.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var busyPort = ((IPEndPoint)busy.LocalEndPoint!).Port;
        var before = wg.GetConfiguration();

        var peer = WireGuardKey.GeneratePrivateKey().DerivePublicKey().ToHex();
        Assert.Equal(UapiErrno.PortInUse, await SetAsync(wg, $"listen_port={busyPort}", $"public_key={peer}", "allowed_ip=10.0.0.1/32"));
        Assert.Equal(before, wg.GetConfiguration());

        busy.Close();
        Assert.Equal(0, await SetAsync(wg, $"listen_port={busyPort}"));
        Assert.Equal(busyPort, wg.ListenPort);
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        Assert.Throws<SocketException>(() => probe.Bind(new IPEndPoint(IPAddress.Loopback, busyPort)));
    }

    [Fact]
    public async Task Two_interfaces_configured_over_uapi_carry_packets()
    {
        await using var tunA = new ChannelTun("wga", DeviceMode.Tun);
        await using var tunB = new ChannelTun("wgb", DeviceMode.Tun);
        await using var a = new WireGuardInterface(tunA, Loopback);
        await using var b = new WireGuardInterface(tunB, Loopback);
        await a.StartAsync();
        await b.StartAsync();
        var keyA = WireGuardKey.GeneratePrivateKey();
        var keyB = WireGuardKey.GeneratePrivateKey();
        Assert.Equal(0, await SetAsync(a, $"private_key={keyA.ToHex()}", $"public_key={keyB.DerivePublicKey().ToHex()}",
            $"endpoint=127.0.0.1:{b.ListenPort}", "allowed_ip=10.0.0.2/32"));
        Assert.Equal(0, await SetAsync(b, $"private_key={keyB.ToHex()}", $"public_key={keyA.DerivePublicKey().ToHex()}", "allowed_ip=10.0.0.1/32"));

        tunA.Inject(DevicePair.Ipv4("10.0.0.1", "10.0.0.2", 100));
        var arrived = await tunB.ReadWrittenAsync(DevicePair.Patience);
        Assert.Equal(DevicePair.Ipv4("10.0.0.1", "10.0.0.2", 100), arrived);

        var fields = Fields(b.GetConfiguration());
        Assert.NotEqual("0", fields["last_handshake_time_sec"][0]);
        Assert.True(long.Parse(fields["rx_bytes"][0], System.Globalization.CultureInfo.InvariantCulture) >= 148);
        Assert.Equal([$"127.0.0.1:{a.ListenPort}"], fields["endpoint"]);
    }

    [Fact]
    public async Task A_new_listen_port_keeps_the_session()
    {
        await using var tunA = new ChannelTun("wga", DeviceMode.Tun);
        await using var tunB = new ChannelTun("wgb", DeviceMode.Tun);
        await using var a = new WireGuardInterface(tunA, Loopback);
        await using var b = new WireGuardInterface(tunB, Loopback);
        await a.StartAsync();
        await b.StartAsync();
        var keyA = WireGuardKey.GeneratePrivateKey();
        var keyB = WireGuardKey.GeneratePrivateKey();
        Assert.Equal(0, await SetAsync(a, $"private_key={keyA.ToHex()}", $"public_key={keyB.DerivePublicKey().ToHex()}",
            $"endpoint=127.0.0.1:{b.ListenPort}", "allowed_ip=10.0.0.2/32"));
        Assert.Equal(0, await SetAsync(b, $"private_key={keyB.ToHex()}", $"public_key={keyA.DerivePublicKey().ToHex()}", "allowed_ip=10.0.0.1/32"));
        tunA.Inject(DevicePair.Ipv4("10.0.0.1", "10.0.0.2", 10));
        await tunB.ReadWrittenAsync(DevicePair.Patience);
        var device = a.Device;
        var oldPort = a.ListenPort;

        Assert.Equal(0, await SetAsync(a, "listen_port=0"));
        Assert.NotEqual(oldPort, a.ListenPort);
        Assert.Same(device, a.Device);
        tunA.Inject(DevicePair.Ipv4("10.0.0.1", "10.0.0.2", 20, seed: 7));
        Assert.Equal(DevicePair.Ipv4("10.0.0.1", "10.0.0.2", 20, seed: 7), await tunB.ReadWrittenAsync(DevicePair.Patience));
        tunB.Inject(DevicePair.Ipv4("10.0.0.2", "10.0.0.1", 30));
        Assert.Equal(DevicePair.Ipv4("10.0.0.2", "10.0.0.1", 30), await tunA.ReadWrittenAsync(DevicePair.Patience));
        Assert.Equal(1, a.Device!.Counters.HandshakesCompleted);
        Assert.Equal(1, b.Device!.Counters.HandshakesCompleted);
        Assert.Equal([$"127.0.0.1:{a.ListenPort}"], Fields(b.GetConfiguration())["endpoint"]);
    }
}
