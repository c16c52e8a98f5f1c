using TunTap.IntegrationTests.Cli;
using TunTap.TestKit;

namespace TunTap.IntegrationTests.WireGuard;

/// <summary><c>tuntap wg --netns NS IFNAME</c>: the interface and its UDP socket live in NS, the process need not.</summary>
public sealed class WgNetnsOptionTests
{
    [Fact]
    public async Task With_netns_the_interface_and_its_udp_socket_are_in_that_namespace_and_talk_to_wireguard_go()
    {
        Requires.Root();
        Requires.Tool("wg");
        Requires.Tool("wireguard-go");
        await using var pair = await WgPair.StartAsync("wgns", peerIsWireGuardGo: true, netnsOptionA: true);

        await pair.AssertPingAsync(pair.B, WgPair.OverlayA);
        await pair.AssertPingAsync(pair.A, WgPair.OverlayB);

        // The process runs in the root namespace; its device and socket do not.
        Assert.NotEqual(0, (await ProcessRunner.RunAsync("ip", ["link", "show", pair.NameA])).ExitCode);
        var sockets = (await NetnsScope.ExecAsync(pair.A, "ss", "-Hlun")).EnsureSuccess().StandardOutput;
        Assert.Contains($":{WgPair.PortA} ", sockets, StringComparison.Ordinal);
        Assert.DoesNotContain($":{WgPair.PortA} ", (await ProcessRunner.RunAsync("ss", ["-Hlun"])).StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_namespace_is_a_user_error_before_anything_is_created()
    {
        Requires.Root();
        var missing = "tt-wgns-missing-" + Guid.NewGuid().ToString("N")[..6];
        TuntapCli.AssertUserError(await TuntapCli.RunAsync("wg", "--netns", missing, "tt-wgnsx0"), $"network namespace '{missing}' does not exist");
        Assert.False(File.Exists("/var/run/wireguard/tt-wgnsx0.sock"));
        Assert.NotEqual(0, (await ProcessRunner.RunAsync("ip", ["link", "show", "tt-wgnsx0"])).ExitCode);
    }
}
