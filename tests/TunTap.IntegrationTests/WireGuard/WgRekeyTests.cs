using TunTap.TestKit;

namespace TunTap.IntegrationTests.WireGuard;

/// <summary>
/// Rekeying under load: our <c>tuntap wg</c> in namespace A runs with the test-only
/// <c>--test-rekey-after-seconds 3</c> (keypairs age 40 times faster), initiates the session and
/// sends an iperf3 transfer of fixed size to its peer (another <c>tuntap wg</c> with normal timers,
/// or wireguard-go). Several rekeys happen during the transfer and the TCP connection never notices.
/// </summary>
public sealed class WgRekeyTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Several_rekeys_during_an_iperf3_transfer_lose_no_connection(bool peerIsWireGuardGo)
    {
        Requires.Root();
        Requires.Tool("wg");
        Requires.Tool("iperf3");
        if (peerIsWireGuardGo)
        {
            Requires.Tool("wireguard-go");
        }

        await using var pair = await WgPair.StartAsync("wgrk", peerIsWireGuardGo, extraArgsA: ["--test-rekey-after-seconds", "3"]);

        // A sends first, so A is the initiator: only the initiator rekeys as its keypair ages.
        await pair.AssertPingAsync(pair.A, WgPair.OverlayB);
        await Wait.UntilAsync(() => WgPair.Counter(pair.ProcessA, "handshakes") >= 1, WgPair.Patience, pair.ProcessA.Describe);
        var before = WgPair.Counter(pair.ProcessA, "handshakes");

        await using var server = ProcessRunner.StartBackground("ip", ["netns", "exec", pair.B, "iperf3", "-s", "-1", "--forceflush", "-B", WgPair.OverlayB]);
        await server.WaitForOutputAsync("Server listening", WgPair.Patience);

        // 80 MiB paced at 40 Mbit/s lasts about 17 s (longer on a slow machine, which only adds
        // rekeys): five or so rekey intervals of 3 s.
        var client = await ProcessRunner.RunInAsync(pair.A, "iperf3", ["-c", WgPair.OverlayB, "-n", "80M", "-b", "40M", "-f", "m"], TimeSpan.FromSeconds(180));
        Assert.True(client.ExitCode == 0, $"iperf3 failed:\n{client.StandardOutput}\n{client.StandardError}\nA: {pair.ProcessA.Describe()}\nB: {pair.ProcessB.Describe()}");
        Assert.Contains("receiver", client.StandardOutput, StringComparison.Ordinal);

        // Counter lines come every 0.5 s: take the first one printed after the transfer ended
        // (later keepalives could rekey too, and must not count).
        var linesAtEnd = WgPair.CounterHistory(pair.ProcessA, "handshakes").Count;
        await Wait.UntilAsync(() => WgPair.CounterHistory(pair.ProcessA, "handshakes").Count > linesAtEnd, WgPair.Patience, pair.ProcessA.Describe);
        var after = WgPair.CounterHistory(pair.ProcessA, "handshakes")[linesAtEnd];
        Assert.True(after >= before + 3, $"handshakes before the transfer {before}, after {after}\n{client.StandardOutput}\n{pair.ProcessA.Describe()}");
        Assert.False(pair.ProcessA.HasExited, pair.ProcessA.Describe());

        // The session is still good after the transfer.
        await pair.AssertPingAsync(pair.B, WgPair.OverlayA);
    }
}
