using System.Text.RegularExpressions;
using TunTap.IntegrationTests.Cli;
using TunTap.TestKit;

namespace TunTap.IntegrationTests.Switching;

public sealed partial class DhcpCommandTests
{
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Busybox_udhcpc_in_namespaces_gets_addresses_from_the_switch_and_keeps_them_across_a_restart()
    {
        Requires.Root();
        Requires.Tool("busybox");
        await using var scope = await NetnsScope.CreateAsync("swd", 2);
        var (a, b) = (scope.Names[0], scope.Names[1]);
        var folder = Directory.CreateTempSubdirectory("tt-dhcp-").FullName;
        var leases = Path.Combine(folder, "switch.leases");
        try
        {
            string[] args = ["switch", "run", scope.NewName(), "--port", $"tap:tt-da@{a}", "--port", $"tap:tt-db@{b}", "--gateway", "10.97.0.1/24",
                "--dhcp", "10.97.0.100-10.97.0.150", "--dhcp-host", "02:97:00:00:00:0b=10.97.0.42", "--dns", "10.97.0.53", "--lease-time", "10m",
                "--dhcp-leases", leases, "--stats-interval", "0"];
            string addressA;
            await using (var sw = TuntapCli.Start(args))
            {
                await sw.WaitForOutputAsync("running with 2 ports", Startup);
                Assert.Contains("DHCP 10.97.0.100-10.97.0.150 on 10.97.0.1/24", sw.StandardOutput, StringComparison.Ordinal);

                var leaseA = await RunUdhcpcAsync(folder, a, "tt-da", "02:97:00:00:00:0a");
                addressA = leaseA.Address;
                Assert.Matches(@"^10\.97\.0\.1([0-4][0-9]|50)$", addressA);
                Assert.Equal("24", leaseA.Mask);
                Assert.Equal("10.97.0.1", leaseA.Router);
                Assert.Equal("10.97.0.53", leaseA.Dns);
                Assert.Equal("10.97.0.1", leaseA.ServerId);
                Assert.Equal("600", leaseA.Lease);

                var leaseB = await RunUdhcpcAsync(folder, b, "tt-db", "02:97:00:00:00:0b");
                Assert.Equal("10.97.0.42", leaseB.Address); // the reservation

                await SwitchCommandTests.AssertPingAsync(a, "10.97.0.42");
                await SwitchCommandTests.AssertPingAsync(b, addressA);
                await SwitchCommandTests.AssertPingAsync(a, "10.97.0.1");

                var text = File.ReadAllText(leases);
                Assert.Contains($"02:97:00:00:00:0a {addressA} ", text, StringComparison.Ordinal);
                Assert.Contains("02:97:00:00:00:0b 10.97.0.42 ", text, StringComparison.Ordinal);

                sw.Signal(2);
                Assert.Equal(0, await sw.WaitForExitAsync(TimeSpan.FromSeconds(15)));
                var gateway = SwitchCommandTests.PortSummaries(sw.StandardOutput)["gateway:10.97.0.1/24"];
                Assert.True(gateway["dhcp-offers"] >= 2, sw.StandardOutput);
                Assert.True(gateway["dhcp-acks"] >= 2, sw.StandardOutput);
                Assert.Equal(0, gateway["dhcp-naks"]);
                Assert.Equal(0, gateway["dhcp-dropped"]);
                Assert.Contains($"dhcp: {addressA} leased to 02:97:00:00:00:0a", sw.StandardError, StringComparison.Ordinal);
            }

            // A new switch (new TAP devices) with the same lease file: a newcomer does not get the
            // address, the same MAC does.
            await using (var sw = TuntapCli.Start(args))
            {
                await sw.WaitForOutputAsync("running with 2 ports", Startup);
                Assert.Contains("2 leases loaded from", sw.StandardError, StringComparison.Ordinal);
                var newcomer = await RunUdhcpcAsync(folder, b, "tt-db", "02:97:00:00:00:0c");
                Assert.NotEqual(addressA, newcomer.Address);
                var again = await RunUdhcpcAsync(folder, a, "tt-da", "02:97:00:00:00:0a");
                Assert.Equal(addressA, again.Address);
                await SwitchCommandTests.AssertPingAsync(b, addressA);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Busybox_udhcpc_renews_its_short_lease_by_unicast_and_releases_it_on_exit()
    {
        Requires.Root();
        Requires.Tool("busybox");
        await using var scope = await NetnsScope.CreateAsync("swdr", 1);
        var ns = scope.Names[0];
        var folder = Directory.CreateTempSubdirectory("tt-dhcp-").FullName;
        try
        {
            await using var sw = TuntapCli.Start("switch", "run", scope.NewName(), "--port", $"tap:tt-dr@{ns}", "--gateway", "10.99.0.1/24",
                "--dhcp", "10.99.0.100-10.99.0.110", "--lease-time", "10s", "--dhcp-leases", Path.Combine(folder, "leases"), "--stats-interval", "0");
            await sw.WaitForOutputAsync("running with 1 port", Startup);
            (await NetnsScope.ExecAsync(ns, "ip", "link", "set", "dev", "tt-dr", "address", "02:99:00:00:00:01", "up")).EnsureSuccess();
            var script = WriteScript(folder);
            var log = Path.Combine(folder, "tt-dr-02-99-00-00-00-01.log");

            // Without -q udhcpc keeps the lease: it renews at T1 (5 s) by unicast to the server; -R releases at exit.
            await using (var client = ProcessRunner.StartBackground("ip", ["netns", "exec", ns, "busybox", "udhcpc", "-i", "tt-dr", "-f", "-R", "-t", "10", "-T", "3", "-s", script]))
            {
                await Wait.UntilAsync(() => File.Exists(log) && File.ReadAllText(log).Contains("renew ip=10.99.0.100", StringComparison.Ordinal), TimeSpan.FromSeconds(60), () => $"{(File.Exists(log) ? File.ReadAllText(log) : "no log")}\n{client.Describe()}\n{sw.Describe()}");
                client.Signal(15);
                await client.WaitForExitAsync(TimeSpan.FromSeconds(20));
            }

            await sw.WaitForOutputAsync("dhcp: 02:99:00:00:00:01 released 10.99.0.100", TimeSpan.FromSeconds(20));
            sw.Signal(2);
            Assert.Equal(0, await sw.WaitForExitAsync(TimeSpan.FromSeconds(15)));
            var gateway = SwitchCommandTests.PortSummaries(sw.StandardOutput)["gateway:10.99.0.1/24"];
            Assert.True(gateway["dhcp-acks"] >= 2, sw.StandardOutput); // the first and at least one renewal
            Assert.Equal(0, gateway["dhcp-naks"]);
            Assert.Equal(0, gateway["dhcp-dropped"]);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Dhcp_without_an_ipv4_gateway_is_a_user_error()
    {
        var result = await TuntapCli.RunAsync("switch", "run", "tt-dhcp-err", "--port", "tap:tt-dx", "--dhcp", "10.0.0.5-10.0.0.9");
        TuntapCli.AssertUserError(result, "--dhcp needs an IPv4 --gateway");
        result = await TuntapCli.RunAsync("switch", "run", "tt-dhcp-err", "--port", "tap:tt-dx", "--gateway", "10.1.0.1/24", "--dhcp", "10.0.0.5-10.0.0.9");
        TuntapCli.AssertUserError(result, "is not inside the gateway's subnet 10.1.0.0/24");
        result = await TuntapCli.RunAsync("switch", "run", "tt-dhcp-err", "--port", "tap:tt-dx", "--gateway", "10.1.0.1/24", "--dhcp", "10.1.0.5-10.1.0.9", "--dhcp-host", "nonsense");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("--dhcp-host: 'nonsense' is not MAC=IP", result.StandardError, StringComparison.Ordinal);
    }

    /// <summary>Sets the interface's MAC and runs busybox udhcpc once (-q) with a script that applies and records the lease.</summary>
    private static async Task<UdhcpcLease> RunUdhcpcAsync(string folder, string netns, string device, string mac)
    {
        (await NetnsScope.ExecAsync(netns, "ip", "link", "set", "dev", device, "address", mac, "up")).EnsureSuccess();
        (await NetnsScope.ExecAsync(netns, "ip", "addr", "flush", "dev", device)).EnsureSuccess();
        var log = Path.Combine(folder, $"{device}-{mac.Replace(':', '-')}.log");
        var script = WriteScript(folder);
        var run = await ProcessRunner.RunInAsync(netns, "busybox", ["udhcpc", "-i", device, "-f", "-q", "-n", "-t", "10", "-T", "3", "-s", script], TimeSpan.FromSeconds(90));
        Assert.True(run.ExitCode == 0, $"udhcpc in {netns} failed:\n{run.StandardOutput}\n{run.StandardError}");
        var bound = File.ReadAllLines(log).LastOrDefault(l => l.StartsWith("bound ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"udhcpc never bound:\n{File.ReadAllText(log)}\n{run.StandardError}");
        var match = Bound().Match(bound);
        Assert.True(match.Success, bound);
        var shown = await NetnsScope.ExecAsync(netns, "ip", "-4", "addr", "show", "dev", device);
        Assert.Contains($"inet {match.Groups[1].Value}/{match.Groups[2].Value}", shown.StandardOutput, StringComparison.Ordinal);
        return new UdhcpcLease(match.Groups[1].Value, match.Groups[2].Value, match.Groups[3].Value, match.Groups[4].Value, match.Groups[5].Value, match.Groups[6].Value);
    }

    /// <summary>The udhcpc script: applies the lease and appends it to FOLDER/IFNAME-MAC.log.</summary>
    private static string WriteScript(string folder)
    {
        var script = Path.Combine(folder, "udhcpc.script");
        if (!File.Exists(script))
        {
            File.WriteAllText(script, """
                #!/bin/sh
                echo "$1 ip=$ip mask=$mask router=$router dns=$dns serverid=$serverid lease=$lease" >> "$(dirname "$0")/$interface-$(cat /sys/class/net/$interface/address | tr : -).log"
                case "$1" in
                  deconfig) ip addr flush dev "$interface" ;;
                  bound|renew) ip addr flush dev "$interface"; ip addr add "$ip/$mask" dev "$interface" ;;
                esac
                """.Replace("\r", "", StringComparison.Ordinal));
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        return script;
    }

    [GeneratedRegex(@"^bound ip=(\S+) mask=(\S+) router=(\S+) dns=(\S+) serverid=(\S+) lease=(\S+)")]
    private static partial Regex Bound();

    private sealed record UdhcpcLease(string Address, string Mask, string Router, string Dns, string ServerId, string Lease);
}
