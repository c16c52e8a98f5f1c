using System.Globalization;
using System.Text.RegularExpressions;
using TunTap.IntegrationTests.Cli;
using TunTap.TestKit;
using TunTap.WireGuard;

namespace TunTap.IntegrationTests.WireGuard;

/// <summary>
/// What <c>tuntap wg</c> puts on the wire and what it does with hostile datagrams: the underlay
/// between it (namespace A, port 51820) and wireguard-go (namespace B, port 51821) is captured and
/// dissected by tshark as WireGuard; replayed and garbage datagrams sent at it are dropped and the
/// tunnel keeps working.
/// </summary>
public sealed partial class WgUnderlayTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Underlay_is_valid_wireguard_and_replayed_or_garbage_datagrams_are_dropped()
    {
        Requires.Root();
        Requires.Tool("wg");
        Requires.Tool("wireguard-go");
        Requires.Tool("tshark");
        Requires.Tool("python3");
        await using var scope = await NetnsScope.CreateAsync("wgu", 2);
        var (a, b) = (scope.Names[0], scope.Names[1]);
        await scope.ConnectAsync(a, "192.168.77.1/24", b, "192.168.77.2/24");
        var (ours, theirs) = (scope.NewName(), scope.NewName());
        var directory = Directory.CreateTempSubdirectory("tt-wg-underlay-");
        var ourKey = WireGuardKey.GeneratePrivateKey();
        var theirKey = WireGuardKey.GeneratePrivateKey();
        var ourKeyFile = Path.Combine(directory.FullName, "ours.key");
        var theirKeyFile = Path.Combine(directory.FullName, "theirs.key");
        var pcap = Path.Combine(directory.FullName, "underlay.pcapng");
        await File.WriteAllTextAsync(ourKeyFile, ourKey.ToBase64() + "\n", TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(theirKeyFile, theirKey.ToBase64() + "\n", TestContext.Current.CancellationToken);
        try
        {
            await using var ourProcess = ProcessRunner.StartBackground("ip", ["netns", "exec", a, TuntapCli.DotnetHost, TuntapCli.Dll, "wg", "-f", ours]);
            await using var theirProcess = ProcessRunner.StartBackground("ip", ["netns", "exec", b, "wireguard-go", theirs], new Dictionary<string, string> { ["WG_PROCESS_FOREGROUND"] = "1" });
            await Wait.UntilAsync(async () => (await NetnsScope.ExecAsync(a, "wg", "show", ours)).ExitCode == 0, Patience, ourProcess.Describe);
            await Wait.UntilAsync(async () => (await NetnsScope.ExecAsync(b, "wg", "show", theirs)).ExitCode == 0, Patience, theirProcess.Describe);
            (await NetnsScope.ExecAsync(a, "wg", "set", ours, "private-key", ourKeyFile, "listen-port", "51820",
                "peer", theirKey.DerivePublicKey().ToBase64(), "allowed-ips", "10.9.0.2/32", "endpoint", "192.168.77.2:51821")).EnsureSuccess();
            (await NetnsScope.ExecAsync(b, "wg", "set", theirs, "private-key", theirKeyFile, "listen-port", "51821",
                "peer", ourKey.DerivePublicKey().ToBase64(), "allowed-ips", "10.9.0.1/32", "endpoint", "192.168.77.1:51820")).EnsureSuccess();
            await using (var capture = ProcessRunner.StartBackground("ip", ["netns", "exec", a, "tshark", "-n", "-i", "veth0", "-f", "udp", "-w", pcap]))
            {
                await capture.WaitForOutputAsync("Capturing on", Patience);

                // Up only now: the first packets (IPv6 router solicitations) already start the
                // handshake, and the capture must see its initiation.
                foreach (var (ns, name, address) in new[] { (a, ours, "10.9.0.1/24"), (b, theirs, "10.9.0.2/24") })
                {
                    (await NetnsScope.ExecAsync(ns, "ip", "addr", "add", address, "dev", name)).EnsureSuccess();
                    (await NetnsScope.ExecAsync(ns, "ip", "link", "set", name, "up")).EnsureSuccess();
                }

                var ping = await NetnsScope.ExecAsync(a, "ping", "-c", "4", "-i", "0.2", "-W", "3", "10.9.0.2");
                Assert.True(ping.ExitCode == 0, $"{ping.StandardOutput}\n{ourProcess.Describe()}");
                await Task.Delay(500, TestContext.Current.CancellationToken);
            }

            string[] decode = ["-n", "-r", pcap, "-d", "udp.port==51820,wg", "-d", "udp.port==51821,wg"];
            var types = (await ProcessRunner.RunAsync("tshark", [.. decode, "-T", "fields", "-e", "wg.type"], TimeSpan.FromSeconds(120))).EnsureSuccess().StandardOutput
                .Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Contains("1", types);
            Assert.Contains("2", types);
            Assert.True(types.Count(t => t == "4") >= 6, string.Join(",", types));
            Assert.All(types, t => Assert.Contains(t, new[] { "1", "2", "3", "4" }));
            var malformed = (await ProcessRunner.RunAsync("tshark", [.. decode, "-Y", "_ws.malformed || _ws.expert.severity >= \"warning\""], TimeSpan.FromSeconds(120))).EnsureSuccess();
            Assert.True(malformed.StandardOutput.Trim().Length == 0, malformed.StandardOutput);

            // Resend transport messages wireguard-go sent us (replays), then garbage of every shape.
            var replays = (await ProcessRunner.RunAsync("tshark", [.. decode, "-Y", "wg.type == 4 && udp.dstport == 51820", "-T", "fields", "-e", "udp.payload"], TimeSpan.FromSeconds(120)))
                .EnsureSuccess().StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.NotEmpty(replays);
            var script = """
                import os, socket, sys
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                target = ("192.168.77.1", 51820)
                for payload in sys.argv[1:]:
                    s.sendto(bytes.fromhex(payload.replace(":", "")), target)
                for n in (0, 1, 3, 4, 15, 16, 31, 32, 64, 92, 148, 200, 1500):
                    s.sendto(os.urandom(n), target)
                for kind, size in ((1, 148), (2, 92), (3, 64), (4, 64), (4, 32), (9, 100)):
                    s.sendto(bytes([kind, 0, 0, 0]) + os.urandom(size - 4), target)
                """;
            (await NetnsScope.ExecAsync(b, "python3", ["-c", script, .. replays])).EnsureSuccess();

            await Wait.UntilAsync(() => Counter(ourProcess.StandardOutput, "dropped-replay") >= replays.Length, Patience, ourProcess.Describe);
            Assert.True(Counter(ourProcess.StandardOutput, "dropped-invalid") >= 1, ourProcess.Describe());
            Assert.False(ourProcess.HasExited, ourProcess.Describe());
            var after = await NetnsScope.ExecAsync(b, "ping", "-c", "2", "-W", "3", "10.9.0.1");
            Assert.True(after.ExitCode == 0, $"{after.StandardOutput}\n{ourProcess.Describe()}");
        }
        finally
        {
            directory.Delete(recursive: true);
            File.Delete($"/var/run/wireguard/{ours}.sock");
            File.Delete($"/var/run/wireguard/{theirs}.sock");
        }
    }

    // The last value of "label=N" in the periodic counter lines.
    private static long Counter(string output, string label)
    {
        var matches = CounterPattern().Matches(output);
        long value = -1;
        foreach (Match match in matches)
        {
            if (match.Groups[1].Value == label)
            {
                value = long.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
            }
        }

        return value;
    }

    [GeneratedRegex(@"([a-z-]+)=(\d+)")]
    private static partial Regex CounterPattern();
}
