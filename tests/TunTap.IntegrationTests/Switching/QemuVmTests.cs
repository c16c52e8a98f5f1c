using TunTap.IntegrationTests.Cli;
using TunTap.TestKit;

namespace TunTap.IntegrationTests.Switching;

[Collection(nameof(QemuVmCollection))]
public sealed class QemuVmTests
{
    // TCG (no KVM) boots a guest in seconds on an idle machine; CI is a loaded 2-core box.
    private static readonly TimeSpan Boot = TimeSpan.FromSeconds(180);
    private static readonly TimeSpan Ping = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Two_qemu_vms_get_addresses_from_the_switch_dhcp_and_ping_each_other_and_a_namespace()
    {
        Requires.Root();
        Requires.Tool(QemuGuest.Binary);
        var kernel = QemuKernel.Find();
        Assert.True(kernel is not null, "no kernel in /boot with modules in /lib/modules (scripts/test.sh installs linux-image-amd64)");
        var initramfs = await QemuInitramfs.GetOrBuildAsync(kernel);

        await using var scope = await NetnsScope.CreateAsync("swvm", 1);
        var ns = scope.Names[0];
        var folder = Directory.CreateTempSubdirectory("tt-vm-").FullName;
        try
        {
            var socket1 = Path.Combine(folder, "vm1.sock");
            var socket2 = Path.Combine(folder, "vm2.sock");
            await using var sw = TuntapCli.Start(
                "switch", "run", scope.NewName(), "--port", $"qemu:unix:{socket1}", "--port", $"qemu:unix:{socket2}", "--port", $"tap:tt-vm@{ns}",
                "--gateway", "10.98.0.1/24", "--dhcp", "10.98.0.100-10.98.0.150", "--dhcp-leases", Path.Combine(folder, "leases"), "--stats-interval", "0");
            await sw.WaitForOutputAsync("running with 3 ports", TimeSpan.FromSeconds(30));
            (await NetnsScope.ExecAsync(ns, "ip", "addr", "add", "10.98.0.2/24", "dev", "tt-vm")).EnsureSuccess();

            var booting1 = QemuGuest.StartAsync("vm1", kernel, initramfs, socket1, "52:54:00:98:00:01", Boot);
            var booting2 = QemuGuest.StartAsync("vm2", kernel, initramfs, socket2, "52:54:00:98:00:02", Boot);
            await Task.WhenAll(booting1, booting2).ContinueWith(_ => { }, TaskScheduler.Default);
            if (!booting1.IsCompletedSuccessfully || !booting2.IsCompletedSuccessfully)
            {
                // One did not boot: stop the other before reporting.
                foreach (var booted in new[] { booting1, booting2 }.Where(t => t.IsCompletedSuccessfully))
                {
                    await (await booted).DisposeAsync();
                }

                await Task.WhenAll(booting1, booting2);
            }

            await using var vm1 = await booting1;
            await using var vm2 = await booting2;
            var (address1, address2) = (await vm1.WaitForDhcpAsync(Boot), await vm2.WaitForDhcpAsync(Boot));
            Assert.Matches(@"^10\.98\.0\.1([0-4][0-9]|50)$", address1);
            Assert.Matches(@"^10\.98\.0\.1([0-4][0-9]|50)$", address2);
            Assert.NotEqual(address1, address2);
            Assert.Contains("router=10.98.0.1", vm1.Console, StringComparison.Ordinal);

            Assert.True(await vm1.PingAsync(address2, Ping), vm1.Console);
            Assert.True(await vm2.PingAsync(address1, Ping), vm2.Console);
            Assert.True(await vm1.PingAsync("10.98.0.2", Ping), vm1.Console);
            Assert.True(await vm2.PingAsync("10.98.0.1", Ping), vm2.Console);
            await AssertPingAsync(ns, address1);
            await AssertPingAsync(ns, address2);

            Assert.Contains($"dhcp: {address1} leased to 52:54:00:98:00:01", sw.StandardError, StringComparison.Ordinal);
            Assert.Contains($"dhcp: {address2} leased to 52:54:00:98:00:02", sw.StandardError, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Pings a guest from a namespace: an emulated guest on a loaded machine may answer late, so one reply in 15 s is enough.</summary>
    private static async Task AssertPingAsync(string ns, string target)
    {
        var ping = await ProcessRunner.RunInAsync(ns, "ping", ["-c", "3", "-i", "0.5", "-W", "15", target], TimeSpan.FromSeconds(60));
        Assert.True(ping.ExitCode == 0, $"ping {target} from {ns} failed:\n{ping.StandardOutput}\n{ping.StandardError}");
    }
}
