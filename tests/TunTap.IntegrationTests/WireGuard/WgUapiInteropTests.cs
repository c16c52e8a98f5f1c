using System.Globalization;
using TunTap.IntegrationTests.Cli;
using TunTap.TestKit;
using TunTap.WireGuard;

namespace TunTap.IntegrationTests.WireGuard;

/// <summary>
/// <c>tuntap wg -f IFNAME</c> as a drop-in for wireguard-go: started with <c>ip netns exec</c> so its
/// TUN device and UDP socket live in namespace A, configured only by the real <c>wg</c> through our
/// UAPI socket, talking to wireguard-go (or another <c>tuntap wg</c>) in namespace B over a veth
/// underlay (192.168.77.0/24). The overlay is 10.9.0.0/24 and fd00:9::/64.
/// </summary>
public sealed class WgUapiInteropTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static BackgroundProcess StartOurs(string netns, string name) =>
        ProcessRunner.StartBackground("ip", ["netns", "exec", netns, TuntapCli.DotnetHost, TuntapCli.Dll, "wg", "-f", name]);

    private static BackgroundProcess StartWireGuardGo(string netns, string name) =>
        ProcessRunner.StartBackground("ip", ["netns", "exec", netns, "wireguard-go", name], new Dictionary<string, string> { ["WG_PROCESS_FOREGROUND"] = "1" });

    private static async Task<ProcessResult> WgAsync(string netns, params string[] args) => await NetnsScope.ExecAsync(netns, "wg", args);

    private static async Task ConfigureAsync(string netns, string name, string keyFile, int port, WireGuardKey peer, string peerAllowed, string peerEndpoint, string v4, string v6)
    {
        (await WgAsync(netns, "set", name, "private-key", keyFile, "listen-port", $"{port}",
            "peer", peer.ToBase64(), "allowed-ips", peerAllowed, "endpoint", peerEndpoint)).EnsureSuccess();
        (await NetnsScope.ExecAsync(netns, "ip", "addr", "add", v4, "dev", name)).EnsureSuccess();
        (await NetnsScope.ExecAsync(netns, "ip", "addr", "add", v6, "dev", name, "nodad")).EnsureSuccess();
        (await NetnsScope.ExecAsync(netns, "ip", "link", "set", name, "up")).EnsureSuccess();
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public async Task Wg_configures_tuntap_wg_which_pings_its_peer_over_ipv4_and_ipv6(bool peerIsWireGuardGo, bool ipv6Underlay)
    {
        Requires.Root();
        Requires.Tool("wg");
        if (peerIsWireGuardGo)
        {
            Requires.Tool("wireguard-go");
        }

        await using var scope = await NetnsScope.CreateAsync("wg", 2);
        var (a, b) = (scope.Names[0], scope.Names[1]);
        await scope.ConnectAsync(a, "192.168.77.1/24", b, "192.168.77.2/24");
        (await NetnsScope.ExecAsync(a, "ip", "addr", "add", "fd00:77::1/64", "dev", "veth0", "nodad")).EnsureSuccess();
        (await NetnsScope.ExecAsync(b, "ip", "addr", "add", "fd00:77::2/64", "dev", "veth1", "nodad")).EnsureSuccess();
        var (ourUnderlay, theirUnderlay) = ipv6Underlay ? ("[fd00:77::1]", "[fd00:77::2]") : ("192.168.77.1", "192.168.77.2");
        var (ours, theirs) = (scope.NewName(), scope.NewName());
        var ourKey = WireGuardKey.GeneratePrivateKey();
        var theirKey = WireGuardKey.GeneratePrivateKey();
        var keyDirectory = Directory.CreateTempSubdirectory("tt-wg-keys-");
        var ourKeyFile = Path.Combine(keyDirectory.FullName, "ours.key");
        var theirKeyFile = Path.Combine(keyDirectory.FullName, "theirs.key");
        await File.WriteAllTextAsync(ourKeyFile, ourKey.ToBase64() + "\n", TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(theirKeyFile, theirKey.ToBase64() + "\n", TestContext.Current.CancellationToken);
        var ourSocket = $"/var/run/wireguard/{ours}.sock";
        try
        {
            await using var ourProcess = StartOurs(a, ours);
            await using var theirProcess = peerIsWireGuardGo ? StartWireGuardGo(b, theirs) : StartOurs(b, theirs);
            await Wait.UntilAsync(async () => (await WgAsync(a, "show", ours)).ExitCode == 0, Patience, ourProcess.Describe);
            await Wait.UntilAsync(async () => (await WgAsync(b, "show", theirs)).ExitCode == 0, Patience, theirProcess.Describe);

            // Like wireguard-go: the link starts down, without addresses, MTU 1420.
            var link = await NetnsScope.ExecAsync(a, "ip", "-o", "link", "show", ours);
            Assert.Contains("mtu 1420", link.StandardOutput, StringComparison.Ordinal);
            Assert.DoesNotContain(",UP", link.StandardOutput, StringComparison.Ordinal);

            await ConfigureAsync(a, ours, ourKeyFile, 51820, theirKey.DerivePublicKey(), "10.9.0.2/32,fd00:9::2/128", $"{theirUnderlay}:51821", "10.9.0.1/24", "fd00:9::1/64");
            await ConfigureAsync(b, theirs, theirKeyFile, 51821, ourKey.DerivePublicKey(), "10.9.0.1/32,fd00:9::1/128", $"{ourUnderlay}:51820", "10.9.0.2/24", "fd00:9::2/64");

            var ping4 = await NetnsScope.ExecAsync(a, "ping", "-c", "3", "-W", "3", "10.9.0.2");
            Assert.True(ping4.ExitCode == 0, $"{ping4.StandardOutput}\n{ping4.StandardError}\n{ourProcess.Describe()}\n{theirProcess.Describe()}");
            var ping6 = await NetnsScope.ExecAsync(b, "ping", "-6", "-c", "3", "-W", "3", "-s", "1300", "fd00:9::1");
            Assert.True(ping6.ExitCode == 0, $"{ping6.StandardOutput}\n{ping6.StandardError}\n{ourProcess.Describe()}");

            // wg reads our state back through the socket: handshake time and counters after the pings.
            var show = (await WgAsync(a, "show", ours)).EnsureSuccess().StandardOutput;
            Assert.Contains($"public key: {ourKey.DerivePublicKey().ToBase64()}", show, StringComparison.Ordinal);
            Assert.Contains("listening port: 51820", show, StringComparison.Ordinal);
            Assert.Contains($"peer: {theirKey.DerivePublicKey().ToBase64()}", show, StringComparison.Ordinal);
            Assert.Contains("latest handshake:", show, StringComparison.Ordinal);
            Assert.Contains("transfer:", show, StringComparison.Ordinal);
            var dump = (await WgAsync(a, "show", ours, "dump")).EnsureSuccess().StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var peer = dump[1].Split('\t');
            Assert.Equal(theirKey.DerivePublicKey().ToBase64(), peer[0]);
            Assert.Equal($"{theirUnderlay}:51821", peer[2]);
            Assert.Equal("10.9.0.2/32,fd00:9::2/128", peer[3]);
            var handshake = long.Parse(peer[4], CultureInfo.InvariantCulture);
            Assert.InRange(handshake, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
            Assert.True(long.Parse(peer[5], CultureInfo.InvariantCulture) > 6 * 84, $"rx {peer[5]}");
            Assert.True(long.Parse(peer[6], CultureInfo.InvariantCulture) > 6 * 84, $"tx {peer[6]}");

            // showconf | setconf | showconf is a fixed point, and the session survives it.
            var conf = (await WgAsync(a, "showconf", ours)).EnsureSuccess().StandardOutput;
            var confFile = Path.Combine(keyDirectory.FullName, "ours.conf");
            await File.WriteAllTextAsync(confFile, conf, TestContext.Current.CancellationToken);
            (await WgAsync(a, "setconf", ours, confFile)).EnsureSuccess();
            Assert.Equal(conf, (await WgAsync(a, "showconf", ours)).EnsureSuccess().StandardOutput);
            var again = await NetnsScope.ExecAsync(a, "ping", "-c", "2", "-W", "3", "10.9.0.2");
            Assert.True(again.ExitCode == 0, again.StandardOutput);

            // Deleting the device ends the process cleanly and removes its socket.
            Assert.True(File.Exists(ourSocket));
            (await NetnsScope.ExecAsync(a, "ip", "link", "del", ours)).EnsureSuccess();
            var exitCode = await ourProcess.WaitForExitAsync(TimeSpan.FromSeconds(15));
            Assert.True(exitCode == 0, ourProcess.Describe());
            Assert.Contains("was deleted", ourProcess.StandardOutput, StringComparison.Ordinal);
            Assert.False(File.Exists(ourSocket));
        }
        finally
        {
            keyDirectory.Delete(recursive: true);
            File.Delete(ourSocket);
            File.Delete($"/var/run/wireguard/{theirs}.sock");
        }
    }

    [Fact]
    public async Task Tuntap_wg_without_foreground_detaches_and_sigterm_cleans_up()
    {
        Requires.Root();
        Requires.Tool("wg");
        await using var scope = await NetnsScope.CreateAsync("wg", 1);
        var ns = scope.Names[0];
        var name = scope.NewName();
        var socket = $"/var/run/wireguard/{name}.sock";
        try
        {
            var start = await ProcessRunner.RunAsync("ip", ["netns", "exec", ns, TuntapCli.DotnetHost, TuntapCli.Dll, "wg", name], TimeSpan.FromSeconds(60));
            Assert.True(start.ExitCode == 0, start.StandardOutput + start.StandardError);
            Assert.True(File.Exists(socket));
            var show = (await WgAsync(ns, "show", name)).EnsureSuccess().StandardOutput;
            Assert.Contains($"interface: {name}", show, StringComparison.Ordinal);
            var pid = int.Parse(System.Text.RegularExpressions.Regex.Match(start.StandardError, @"pid (\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
            (await ProcessRunner.RunAsync("kill", ["-TERM", pid.ToString(CultureInfo.InvariantCulture)])).EnsureSuccess();
            await Wait.UntilAsync(() => !File.Exists(socket), Patience, () => "socket still there after SIGTERM");
            await Wait.UntilAsync(async () => (await NetnsScope.ExecAsync(ns, "ip", "link", "show", name)).ExitCode != 0, Patience, () => "device still there after SIGTERM");
        }
        finally
        {
            File.Delete(socket);
        }
    }

    [Fact]
    public async Task Wg_set_errors_come_back_from_our_socket()
    {
        Requires.Root();
        Requires.Tool("wg");
        await using var scope = await NetnsScope.CreateAsync("wg", 1);
        var ns = scope.Names[0];
        var name = scope.NewName();
        try
        {
            await using var process = StartOurs(ns, name);
            await Wait.UntilAsync(async () => (await WgAsync(ns, "show", name)).ExitCode == 0, Patience, process.Describe);
            using var busy = NetworkNamespaceUdp(ns);
            var failed = await WgAsync(ns, "set", name, "listen-port", "51999");
            Assert.NotEqual(0, failed.ExitCode);
            Assert.Contains("Address already in use", failed.StandardError, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("listening port: 51999", (await WgAsync(ns, "show", name)).StandardOutput, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete($"/var/run/wireguard/{name}.sock");
        }
    }

    // A UDP socket holding port 51999 inside the namespace.
    private static System.Net.Sockets.Socket NetworkNamespaceUdp(string netns) =>
        TunTap.Netlink.NetworkNamespace.Run(netns, () =>
        {
            var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetworkV6, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp) { DualMode = true };
            socket.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.IPv6Any, 51999));
            return socket;
        });
}
