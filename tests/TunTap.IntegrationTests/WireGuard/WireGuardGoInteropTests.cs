using System.Net;
using TunTap.Devices;
using TunTap.Netlink;
using TunTap.TestKit;
using TunTap.WireGuard;

namespace TunTap.IntegrationTests.WireGuard;

/// <summary>
/// Our WireGuard device against the reference userspace implementation: wireguard-go runs in
/// namespace A (configured with <c>wg set</c>), our <see cref="WireGuardDevice"/> on a real TUN
/// device in namespace B, joined by a veth underlay (192.168.77.0/24); the overlay is 10.9.0.0/24.
/// </summary>
public sealed class WireGuardGoInteropTests
{
    private const int TheirPort = 51820;
    private const int OurPort = 51821;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public async Task Ping_crosses_between_our_device_and_wireguard_go(bool weInitiate, bool withPresharedKey)
    {
        Requires.Root();
        Requires.Tool("wireguard-go");
        Requires.Tool("wg");
        await using var scope = await NetnsScope.CreateAsync("wg", 2);
        var (a, b) = (scope.Names[0], scope.Names[1]);
        await scope.ConnectAsync(a, "192.168.77.1/24", b, "192.168.77.2/24");

        var ourKey = WireGuardKey.GeneratePrivateKey();
        var theirKey = WireGuardKey.GeneratePrivateKey();
        var psk = withPresharedKey ? WireGuardKey.GeneratePresharedKey() : default;

        // Our key derivation agrees with wg's.
        var wgPub = await ProcessRunner.RunAsync("wg", ["pubkey"], stdin: theirKey.ToBase64() + "\n");
        Assert.Equal(theirKey.DerivePublicKey().ToBase64(), wgPub.StandardOutput.Trim());

        // The UAPI socket (/var/run/wireguard/NAME.sock) is not per namespace: a unique name keeps
        // `wg` from configuring another test's wireguard-go.
        var theirs = scope.NewName();
        var keyFile = Path.Combine(Path.GetTempPath(), $"{scope.NewName()}.key");
        var pskFile = keyFile + ".psk";
        await File.WriteAllTextAsync(keyFile, theirKey.ToBase64() + "\n", TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(pskFile, psk.ToBase64() + "\n", TestContext.Current.CancellationToken);
        try
        {
            await using var wireguardGo = ProcessRunner.StartBackground("ip", ["netns", "exec", a, "wireguard-go", theirs], new Dictionary<string, string> { ["WG_PROCESS_FOREGROUND"] = "1" });
            await Wait.UntilAsync(async () => (await NetnsScope.ExecAsync(a, "wg", "show", theirs)).ExitCode == 0, Patience, wireguardGo.Describe);
            (await NetnsScope.ExecAsync(a, "wg", "set", theirs, "private-key", keyFile, "listen-port", $"{TheirPort}",
                "peer", ourKey.DerivePublicKey().ToBase64(), "preshared-key", pskFile, "allowed-ips", "10.9.0.2/32", "endpoint", $"192.168.77.2:{OurPort}")).EnsureSuccess();
            (await NetnsScope.ExecAsync(a, "ip", "addr", "add", "10.9.0.1/24", "dev", theirs)).EnsureSuccess();
            (await NetnsScope.ExecAsync(a, "ip", "link", "set", theirs, "up")).EnsureSuccess();

            var (tun, udp) = NetworkNamespace.Run(b, () =>
                (TunDevice.Create(new TunDeviceOptions { Name = "wgt0", Mode = DeviceMode.Tun }), UdpSocketTransport.Bind(new IPEndPoint(IPAddress.Any, OurPort))));
            await using (tun)
            await using (udp)
            {
                (await NetnsScope.ExecAsync(b, "ip", "addr", "add", "10.9.0.2/24", "dev", "wgt0")).EnsureSuccess();
                (await NetnsScope.ExecAsync(b, "ip", "link", "set", "wgt0", "mtu", "1420", "up")).EnsureSuccess();
                await using var device = new WireGuardDevice(tun, udp, new WireGuardDeviceOptions { PrivateKey = ourKey });
                var peer = device.AddPeer(new WireGuardPeerOptions
                {
                    PublicKey = theirKey.DerivePublicKey(),
                    PresharedKey = psk,
                    Endpoint = new IPEndPoint(IPAddress.Parse("192.168.77.1"), TheirPort),
                    AllowedIps = [IPNetwork.Parse("10.9.0.1/32")],
                });
                device.Start();

                var (first, firstTarget, second, secondTarget) = weInitiate ? (b, "10.9.0.1", a, "10.9.0.2") : (a, "10.9.0.2", b, "10.9.0.1");
                var ping1 = await NetnsScope.ExecAsync(first, "ping", "-c", "3", "-W", "3", firstTarget);
                Assert.True(ping1.ExitCode == 0, $"{ping1.StandardOutput}\n{ping1.StandardError}\n{wireguardGo.Describe()}");
                var ping2 = await NetnsScope.ExecAsync(second, "ping", "-c", "3", "-W", "3", "-s", "1372", secondTarget);
                Assert.True(ping2.ExitCode == 0, $"{ping2.StandardOutput}\n{ping2.StandardError}");

                Assert.Equal(1, device.Counters.HandshakesCompleted);
                Assert.Equal(weInitiate ? 1 : 0, device.Counters.HandshakeInitiationsSent);
                Assert.NotNull(peer.LastHandshake);
                Assert.True(device.Counters.DataPacketsReceived >= 6, $"received {device.Counters.DataPacketsReceived}");
                var handshakes = await NetnsScope.ExecAsync(a, "wg", "show", theirs, "latest-handshakes");
                Assert.DoesNotContain("\t0", handshakes.StandardOutput, StringComparison.Ordinal);
            }
        }
        finally
        {
            File.Delete(keyFile);
            File.Delete(pskFile);
        }
    }
}
