using System.Net;
using TunTap.IntegrationTests.Cli;
using TunTap.TestKit;

namespace TunTap.IntegrationTests.Switching;

/// <summary>
/// A switch trunk port to a QEMU guest whose kernel (8021q) terminates the VLANs on 802.1Q
/// sub-interfaces: the host kernel here may lack 8021q, the guest's Debian kernel has it.
/// </summary>
[Collection(nameof(QemuVmCollection))]
public sealed class QemuVlanTrunkTests
{
    // TCG (no KVM) boots a guest in seconds on an idle machine; CI is a loaded 2-core box.
    private static readonly TimeSpan Boot = TimeSpan.FromSeconds(180);
    private static readonly TimeSpan Command = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_trunk_port_to_a_guest_kernels_8021q_sub_interfaces_carries_both_vlans_and_keeps_them_apart()
    {
        Requires.Root();
        Requires.Tool(QemuGuest.Binary);
        Requires.Tool("tshark");
        var kernel = QemuKernel.Find();
        Assert.True(kernel is not null, "no kernel in /boot with modules in /lib/modules (scripts/test.sh installs linux-image-amd64)");
        var initramfs = await QemuInitramfs.GetOrBuildAsync(kernel);

        await using var scope = await NetnsScope.CreateAsync("swvl", 2);
        var (ns10, ns20) = (scope.Names[0], scope.Names[1]);
        var folder = Directory.CreateTempSubdirectory("tt-vlan-vm-").FullName;
        try
        {
            var socket = Path.Combine(folder, "vm.sock");
            var pcap = Path.Combine(folder, "trunk.pcap");
            await using var sw = TuntapCli.Start(
                "switch", "run", scope.NewName(), "--port", $"qemu:unix:{socket},trunk=10,20", "--port", $"tap:tt-v10@{ns10},vlan=10", "--port", $"tap:tt-v20@{ns20},vlan=20",
                "--pcap", pcap, "--pcap-ports", "0", "--stats-interval", "0");
            await sw.WaitForOutputAsync("running with 3 ports", TimeSpan.FromSeconds(30));
            (await NetnsScope.ExecAsync(ns10, "ip", "addr", "add", "10.10.0.1/24", "dev", "tt-v10")).EnsureSuccess();
            (await NetnsScope.ExecAsync(ns20, "ip", "addr", "add", "10.20.0.1/24", "dev", "tt-v20")).EnsureSuccess();

            // The trunk has no native VLAN: untagged DHCP would only time out.
            await using (var vm = await QemuGuest.StartAsync("vm", kernel, initramfs, socket, "52:54:00:10:20:01", Boot, dhcp: false))
            {
                await vm.AddVlanAsync(10, "10.10.0.2/24", Command);
                await vm.AddVlanAsync(20, "10.20.0.2/24", Command);

                Assert.True(await vm.PingAsync("10.10.0.1", Command), vm.Console);
                Assert.True(await vm.PingAsync("10.20.0.1", Command), vm.Console);
                await AssertPingAsync(ns10, "10.10.0.2");
                await AssertPingAsync(ns20, "10.20.0.2");

                // Even told that 10.20.0.1 is on its link, the VLAN 10 namespace cannot reach the
                // VLAN 20 one: its ARP request goes to the trunk (tagged 10), never to VLAN 20's port.
                (await NetnsScope.ExecAsync(ns10, "ip", "route", "add", "10.20.0.1/32", "dev", "tt-v10")).EnsureSuccess();
                var crossing = await ProcessRunner.RunInAsync(ns10, "ping", ["-c", "2", "-i", "0.5", "-W", "2", "10.20.0.1"], TimeSpan.FromSeconds(30));
                Assert.True(crossing.ExitCode != 0, $"VLAN 10 reached VLAN 20:\n{crossing.StandardOutput}");

                sw.Signal(2);
                Assert.Equal(0, await sw.WaitForExitAsync(TimeSpan.FromSeconds(15)));
            }

            var frames = await TrunkFramesAsync(pcap);

            // The guest's echo requests and the namespaces' replies, each tagged with its VLAN.
            Assert.Contains(new TrunkFrame("10", "10.10.0.2", "10.10.0.1", "", "", "8"), frames);
            Assert.Contains(new TrunkFrame("10", "10.10.0.1", "10.10.0.2", "", "", "0"), frames);
            Assert.Contains(new TrunkFrame("20", "10.20.0.2", "10.20.0.1", "", "", "8"), frames);
            Assert.Contains(new TrunkFrame("20", "10.20.0.1", "10.20.0.2", "", "", "0"), frames);
            Assert.Contains(new TrunkFrame("10", "", "", "10.10.0.1", "10.10.0.2", ""), frames); // the namespace's ARP reply
            Assert.Contains(new TrunkFrame("20", "", "", "10.20.0.1", "10.20.0.2", ""), frames);

            // The VLAN 10 namespace's request for 10.20.0.1 stayed in VLAN 10.
            Assert.Contains(new TrunkFrame("10", "", "", "10.10.0.1", "10.20.0.1", ""), frames);
            foreach (var frame in frames)
            {
                var senders = new[] { frame.Source, frame.Destination, frame.ArpSender }.Where(a => a.Length > 0).ToList();
                if (frame.Vlan.Length == 0)
                {
                    // Untagged frames are only the guest's eth0 itself (IPv6), never IPv4 or ARP.
                    Assert.True(senders.Count == 0, $"untagged IPv4/ARP on the trunk: {frame}");
                    continue;
                }

                Assert.True(frame.Vlan is "10" or "20", $"a frame in VLAN {frame.Vlan} on the trunk: {frame}");
                var subnet = IPNetwork.Parse($"10.{frame.Vlan}.0.0/24");
                Assert.True(senders.TrueForAll(a => subnet.Contains(IPAddress.Parse(a))), $"a frame from another VLAN in VLAN {frame.Vlan}: {frame}");
            }
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

    /// <summary>The frames of the trunk's pcap as tshark reads them (the first occurrence of each field).</summary>
    private static async Task<List<TrunkFrame>> TrunkFramesAsync(string pcap)
    {
        var tshark = await ProcessRunner.RunAsync(
            "tshark",
            ["-r", pcap, "-n", "-T", "fields", "-E", "occurrence=f", "-e", "vlan.id", "-e", "ip.src", "-e", "ip.dst", "-e", "arp.src.proto_ipv4", "-e", "arp.dst.proto_ipv4", "-e", "icmp.type"],
            TimeSpan.FromSeconds(60));
        tshark.EnsureSuccess();
        var frames = new List<TrunkFrame>();
        foreach (var line in tshark.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.TrimEnd('\r').Split('\t');
            Assert.True(fields.Length == 6, $"tshark line: {line}");
            frames.Add(new TrunkFrame(fields[0], fields[1], fields[2], fields[3], fields[4], fields[5]));
        }

        Assert.NotEmpty(frames);
        return frames;
    }

    private sealed record TrunkFrame(string Vlan, string Source, string Destination, string ArpSender, string ArpTarget, string IcmpType);
}
