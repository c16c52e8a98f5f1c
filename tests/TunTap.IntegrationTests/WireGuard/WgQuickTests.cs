using System.Globalization;
using System.Text.RegularExpressions;
using TunTap.IntegrationTests.Cli;
using TunTap.TestKit;
using TunTap.WireGuard;

namespace TunTap.IntegrationTests.WireGuard;

/// <summary>
/// <c>wg-quick</c> with <c>WG_QUICK_USERSPACE_IMPLEMENTATION</c> pointing at <c>tuntap wg</c> (used
/// when the kernel has no WireGuard module, as here): up starts and configures us, the tunnel carries
/// pings to wireguard-go, down deletes the device and our detached process exits.
/// </summary>
public sealed partial class WgQuickTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Wg_quick_up_and_down_drive_tuntap_wg()
    {
        Requires.Root();
        Requires.Tool("wg-quick");
        Requires.Tool("wireguard-go");
        await using var scope = await NetnsScope.CreateAsync("wgq", 2);
        var (a, b) = (scope.Names[0], scope.Names[1]);
        if ((await NetnsScope.ExecAsync(a, "ip", "link", "add", "tt-probe", "type", "wireguard")).ExitCode == 0)
        {
            Assert.Skip("the kernel has WireGuard: wg-quick would not use a userspace implementation");
        }

        await scope.ConnectAsync(a, "192.168.77.1/24", b, "192.168.77.2/24");
        var (ours, theirs) = (scope.NewName(), scope.NewName());
        var directory = Directory.CreateTempSubdirectory("tt-wg-quick-");
        var ourKey = WireGuardKey.GeneratePrivateKey();
        var theirKey = WireGuardKey.GeneratePrivateKey();
        var theirKeyFile = Path.Combine(directory.FullName, "theirs.key");
        await File.WriteAllTextAsync(theirKeyFile, theirKey.ToBase64() + "\n", TestContext.Current.CancellationToken);
        var wrapper = Path.Combine(directory.FullName, "tuntap-wg");
        await File.WriteAllTextAsync(wrapper, $"#!/bin/sh\nexec '{TuntapCli.DotnetHost}' '{TuntapCli.Dll}' wg \"$@\"\n", TestContext.Current.CancellationToken);
        (await ProcessRunner.RunAsync("chmod", ["700", wrapper])).EnsureSuccess();
        var config = Path.Combine(directory.FullName, $"{ours}.conf");
        await File.WriteAllTextAsync(config, $"""
            [Interface]
            PrivateKey = {ourKey.ToBase64()}
            ListenPort = 51820
            Address = 10.9.0.1/24

            [Peer]
            PublicKey = {theirKey.DerivePublicKey().ToBase64()}
            AllowedIPs = 10.9.0.2/32
            Endpoint = 192.168.77.2:51821

            """, TestContext.Current.CancellationToken);
        int? pid = null;
        try
        {
            await using var theirProcess = ProcessRunner.StartBackground("ip", ["netns", "exec", b, "wireguard-go", theirs], new Dictionary<string, string> { ["WG_PROCESS_FOREGROUND"] = "1" });
            await Wait.UntilAsync(async () => (await NetnsScope.ExecAsync(b, "wg", "show", theirs)).ExitCode == 0, Patience, theirProcess.Describe);
            (await NetnsScope.ExecAsync(b, "wg", "set", theirs, "private-key", theirKeyFile, "listen-port", "51821",
                "peer", ourKey.DerivePublicKey().ToBase64(), "allowed-ips", "10.9.0.1/32")).EnsureSuccess();
            (await NetnsScope.ExecAsync(b, "ip", "addr", "add", "10.9.0.2/24", "dev", theirs)).EnsureSuccess();
            (await NetnsScope.ExecAsync(b, "ip", "link", "set", theirs, "up")).EnsureSuccess();

            var up = await ProcessRunner.RunAsync("ip", ["netns", "exec", a, "wg-quick", "up", config], TimeSpan.FromSeconds(60),
                environment: new Dictionary<string, string> { ["WG_QUICK_USERSPACE_IMPLEMENTATION"] = wrapper });
            if (PidPattern().Match(up.StandardError) is { Success: true } match)
            {
                pid = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            }

            Assert.True(up.ExitCode == 0, up.StandardOutput + up.StandardError);
            Assert.NotNull(pid);
            var ping = await NetnsScope.ExecAsync(a, "ping", "-c", "3", "-W", "3", "10.9.0.2");
            Assert.True(ping.ExitCode == 0, ping.StandardOutput + up.StandardError);
            Assert.Contains("latest handshake:", (await NetnsScope.ExecAsync(a, "wg", "show", ours)).StandardOutput, StringComparison.Ordinal);

            var down = await ProcessRunner.RunAsync("ip", ["netns", "exec", a, "wg-quick", "down", config], TimeSpan.FromSeconds(60));
            Assert.True(down.ExitCode == 0, down.StandardOutput + down.StandardError);
            await Wait.UntilAsync(() => !File.Exists($"/var/run/wireguard/{ours}.sock") && !ProcessExists(pid.Value), Patience, () => "tuntap wg still running after wg-quick down");
        }
        finally
        {
            if (pid is { } running && ProcessExists(running))
            {
                await ProcessRunner.RunAsync("kill", ["-KILL", running.ToString(CultureInfo.InvariantCulture)]);
            }

            directory.Delete(recursive: true);
            File.Delete($"/var/run/wireguard/{ours}.sock");
            File.Delete($"/var/run/wireguard/{theirs}.sock");
        }
    }

    private static bool ProcessExists(int pid) => Directory.Exists($"/proc/{pid}");

    [GeneratedRegex(@"\(pid (\d+)\)")]
    private static partial Regex PidPattern();
}
