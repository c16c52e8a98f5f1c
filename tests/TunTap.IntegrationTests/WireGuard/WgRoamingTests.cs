using TunTap.TestKit;

namespace TunTap.IntegrationTests.WireGuard;

/// <summary>
/// Roaming: mid-session the peer in namespace B (another <c>tuntap wg</c>, or wireguard-go) moves
/// from its first underlay link (192.168.77.2) to a second one (192.168.78.2), as a laptop moving
/// from one network to another. Its next packets come from the new address; our <c>tuntap wg</c>
/// in A authenticates them, moves the peer's endpoint there (as <c>wg show</c> reports), and
/// traffic in both directions follows without a new configuration or handshake.
/// </summary>
public sealed class WgRoamingTests
{
    private const string RoamedUnderlayB = "192.168.78.2";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Traffic_follows_a_peer_whose_underlay_address_changes(bool peerIsWireGuardGo)
    {
        Requires.Root();
        Requires.Tool("wg");
        if (peerIsWireGuardGo)
        {
            Requires.Tool("wireguard-go");
        }

        await using var pair = await WgPair.StartAsync("wgrm", peerIsWireGuardGo);
        await pair.AssertPingAsync(pair.A, WgPair.OverlayB);
        Assert.Equal($"{WgPair.UnderlayB}:{WgPair.PortB}", (await pair.PeerDumpAAsync())[2]);

        // B's first link goes down; it reaches A's configured endpoint (192.168.77.1) over the
        // second link now. (wireguard-go forgets its sticky source address when the route to the
        // endpoint leaves through another interface.)
        await pair.Scope.ConnectAsync(pair.A, "192.168.78.1/24", pair.B, $"{RoamedUnderlayB}/24", "veth2", "veth3");
        (await NetnsScope.ExecAsync(pair.B, "ip", "link", "set", "veth1", "down")).EnsureSuccess();
        (await NetnsScope.ExecAsync(pair.B, "ip", "route", "add", "192.168.77.0/24", "via", "192.168.78.1", "dev", "veth3")).EnsureSuccess();

        // The roaming side speaks first (A's replies can only reach it once A learned the new
        // address). wireguard-go notices the route change asynchronously, so its first echo may
        // still leave from the old address: wait for one answered echo, then expect every one.
        await Wait.UntilAsync(async () => (await ProcessRunner.RunInAsync(pair.B, "ping", ["-c", "1", "-W", "2", WgPair.OverlayA], TimeSpan.FromSeconds(30))).ExitCode == 0,
            WgPair.Patience, () => $"no echo answered after roaming\nA: {pair.ProcessA.Describe()}\nB: {pair.ProcessB.Describe()}");
        await pair.AssertPingAsync(pair.B, WgPair.OverlayA);
        var expected = $"{RoamedUnderlayB}:{WgPair.PortB}";
        await Wait.UntilAsync(async () => (await pair.PeerDumpAAsync()) is [_, _, var endpoint, ..] && endpoint == expected, WgPair.Patience,
            () => $"A still sends to {string.Join(' ', pair.PeerDumpAAsync().GetAwaiter().GetResult())}\n{pair.ProcessA.Describe()}");

        // And A reaches B at its new address, with the same session (no new handshake needed).
        var handshakes = WgPair.Counter(pair.ProcessA, "handshakes");
        await pair.AssertPingAsync(pair.A, WgPair.OverlayB);
        Assert.Equal(handshakes, WgPair.Counter(pair.ProcessA, "handshakes"));
    }
}
