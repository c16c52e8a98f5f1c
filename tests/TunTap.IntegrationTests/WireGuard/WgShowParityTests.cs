using TunTap.IntegrationTests.Cli;
using TunTap.TestKit;
using TunTap.WireGuard;

namespace TunTap.IntegrationTests.WireGuard;

/// <summary>
/// <c>wg</c> cannot tell us from wireguard-go: the same configuration given to both with
/// <c>wg setconf</c> reads back identically through <c>wg showconf</c> and <c>wg show dump</c>.
/// </summary>
public sealed class WgShowParityTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Wg_shows_the_same_for_tuntap_wg_and_wireguard_go()
    {
        Requires.Root();
        Requires.Tool("wg");
        Requires.Tool("wireguard-go");
        await using var scope = await NetnsScope.CreateAsync("wgp", 2);
        var (a, b) = (scope.Names[0], scope.Names[1]);
        var (ours, theirs) = (scope.NewName(), scope.NewName());
        var directory = Directory.CreateTempSubdirectory("tt-wg-parity-");
        var config = Path.Combine(directory.FullName, "wg.conf");
        var peer1 = WireGuardKey.GeneratePrivateKey().DerivePublicKey().ToBase64();
        var peer2 = WireGuardKey.GeneratePrivateKey().DerivePublicKey().ToBase64();
        await File.WriteAllTextAsync(config, $"""
            [Interface]
            PrivateKey = {WireGuardKey.GeneratePrivateKey().ToBase64()}
            ListenPort = 51820
            FwMark = 0x1234

            [Peer]
            PublicKey = {peer1}
            PresharedKey = {WireGuardKey.GeneratePresharedKey().ToBase64()}
            AllowedIPs = 10.9.0.0/24, 10.10.0.7/32, fd00:9::/64
            Endpoint = 192.0.2.7:51820

            [Peer]
            PublicKey = {peer2}
            AllowedIPs = 0.0.0.0/0, ::/0
            Endpoint = [2001:db8::7]:4242
            PersistentKeepalive = 0

            """, TestContext.Current.CancellationToken);
        try
        {
            await using var ourProcess = ProcessRunner.StartBackground("ip", ["netns", "exec", a, TuntapCli.DotnetHost, TuntapCli.Dll, "wg", "-f", ours]);
            await using var theirProcess = ProcessRunner.StartBackground("ip", ["netns", "exec", b, "wireguard-go", theirs], new Dictionary<string, string> { ["WG_PROCESS_FOREGROUND"] = "1" });
            await Wait.UntilAsync(async () => (await NetnsScope.ExecAsync(a, "wg", "show", ours)).ExitCode == 0, Patience, ourProcess.Describe);
            await Wait.UntilAsync(async () => (await NetnsScope.ExecAsync(b, "wg", "show", theirs)).ExitCode == 0, Patience, theirProcess.Describe);
            (await NetnsScope.ExecAsync(a, "wg", "setconf", ours, config)).EnsureSuccess();
            (await NetnsScope.ExecAsync(b, "wg", "setconf", theirs, config)).EnsureSuccess();

            foreach (var view in new[] { new[] { "showconf", "{0}" }, ["show", "{0}", "dump"], ["show", "{0}"], ["show", "{0}", "allowed-ips"], ["show", "{0}", "fwmark"] })
            {
                var ourView = (await NetnsScope.ExecAsync(a, "wg", [.. view.Select(v => string.Format(System.Globalization.CultureInfo.InvariantCulture, v, ours))])).EnsureSuccess().StandardOutput;
                var theirView = (await NetnsScope.ExecAsync(b, "wg", [.. view.Select(v => string.Format(System.Globalization.CultureInfo.InvariantCulture, v, theirs))])).EnsureSuccess().StandardOutput;
                Assert.Contains(view[0] == "show" && view.Length == 3 && view[2] == "fwmark" ? "0x1234" : peer2, ourView, StringComparison.Ordinal);
                Assert.Equal(Sorted(theirView.Replace(theirs, ours, StringComparison.Ordinal)), Sorted(ourView));
            }
        }
        finally
        {
            directory.Delete(recursive: true);
            File.Delete($"/var/run/wireguard/{ours}.sock");
            File.Delete($"/var/run/wireguard/{theirs}.sock");
        }
    }

    // wg prints peers in the order the implementation lists them; compare line sets per peer block.
    private static string Sorted(string text) => string.Join('\n', text.Split('\n').Order(StringComparer.Ordinal));
}
