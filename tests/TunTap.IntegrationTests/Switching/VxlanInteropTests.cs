using System.Net;
using System.Net.Sockets;
using TunTap.IntegrationTests.Cli;
using TunTap.Netlink;
using TunTap.TestKit;

namespace TunTap.IntegrationTests.Switching;

/// <summary>
/// The switch's VXLAN port against the Linux vxlan driver: namespace K has a vxlan device (VNI 42)
/// whose remote is the switch's UDP socket in namespace S (a veth between S and K carries the
/// underlay); a TAP port puts namespace T on the same segment.
/// </summary>
public sealed class VxlanInteropTests
{
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_namespace_on_a_tap_port_pings_a_linux_vxlan_device_and_tshark_sees_vni_42()
    {
        Requires.Tool("tshark");
        await using var scope = await NetnsScope.CreateAsync("vx", 3);
        var (s, k, t) = (scope.Names[0], scope.Names[1], scope.Names[2]);
        await LinuxVxlanAsync(scope, s, k);
        var pcap = Path.Combine(Path.GetTempPath(), $"{scope.NewName()}.pcapng");
        try
        {
            await using var sw = TuntapCli.Start("switch", "run", scope.NewName(), "--port", $"vxlan:10.91.1.2@{s},vni=42", "--port", $"tap:tt-vxt@{t}", "--stats-interval", "0");
            await sw.WaitForOutputAsync("running with 2 ports", Startup);
            (await NetnsScope.ExecAsync(t, "ip", "addr", "add", "10.91.0.3/24", "dev", "tt-vxt")).EnsureSuccess();

            await using (var capture = ProcessRunner.StartBackground("ip", ["netns", "exec", s, "tshark", "-n", "-i", "veth0", "-f", "udp port 4789", "-c", "6", "-a", "duration:30", "-w", pcap]))
            {
                await capture.WaitForOutputAsync("Capturing on", Startup);
                await SwitchCommandTests.AssertPingAsync(t, "10.91.0.2");
                await SwitchCommandTests.AssertPingAsync(k, "10.91.0.3");
                Assert.Equal(0, await capture.WaitForExitAsync(TimeSpan.FromSeconds(40)));
            }

            var dissected = await ProcessRunner.RunAsync("tshark", ["-n", "-r", pcap, "-Y", "vxlan", "-T", "fields", "-e", "vxlan.vni", "-e", "vxlan.flags", "-e", "eth.type"], TimeSpan.FromSeconds(30));
            Assert.Equal(0, dissected.ExitCode);
            var lines = dissected.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.Equal(6, lines.Length);
            foreach (var line in lines)
            {
                // Wireshark shows the flags as 16 bits: the I flag alone is 0x0800.
                Assert.Equal(["42", "0x0800"], line.Split('\t')[..2]);
            }

            sw.Signal(2);
            Assert.Equal(0, await sw.WaitForExitAsync(TimeSpan.FromSeconds(15)));
            var vxlan = SwitchCommandTests.PortSummaries(sw.StandardOutput)[$"vxlan:10.91.1.2:4789@{s},vni=42"];
            Assert.True(vxlan["rx-frames"] >= 4, sw.StandardOutput);
            Assert.True(vxlan["vxlan-tx-datagrams"] >= 4, sw.StandardOutput);
            Assert.Equal(0, vxlan["vxlan-dropped"]);
        }
        finally
        {
            File.Delete(pcap);
        }
    }

    [Fact]
    public async Task Garbage_and_other_vni_datagrams_are_counted_drops_and_the_switch_keeps_forwarding()
    {
        await using var scope = await NetnsScope.CreateAsync("vxg", 3);
        var (s, k, t) = (scope.Names[0], scope.Names[1], scope.Names[2]);
        await LinuxVxlanAsync(scope, s, k);
        await using var sw = TuntapCli.Start("switch", "run", "vx1", "--port", $"vxlan:10.91.1.2@{s},vni=42", "--port", $"tap:tt-vxt@{t}", "--stats-interval", "0");
        await sw.WaitForOutputAsync("running with 2 ports", Startup);
        (await NetnsScope.ExecAsync(t, "ip", "addr", "add", "10.91.0.3/24", "dev", "tt-vxt")).EnsureSuccess();
        await SwitchCommandTests.AssertPingAsync(t, "10.91.0.2");

        // From K's underlay address, as a confused or hostile VTEP would send them.
        using (var socket = NetworkNamespace.Run(k, () => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)))
        {
            var target = new IPEndPoint(IPAddress.Parse("10.91.1.1"), 4789);
            var random = new Random(42);
            for (var i = 0; i < 30; i++)
            {
                var garbage = new byte[random.Next(8, 200)];
                random.NextBytes(garbage);
                garbage[0] &= 0xF7; // I flag clear
                await socket.SendToAsync(garbage, target);
            }

            for (var i = 0; i < 10; i++)
            {
                var otherVni = new byte[8 + 60];
                otherVni[0] = 0x08;
                otherVni[6] = 43;
                otherVni.AsSpan(8, 6).Fill(0xFF);
                otherVni[19] = 0x02;
                await socket.SendToAsync(otherVni, target);
            }

            await socket.SendToAsync(new byte[] { 0x08, 0, 0, 0 }, target);
        }

        await SwitchCommandTests.AssertPingAsync(t, "10.91.0.2");
        await SwitchCommandTests.AssertPingAsync(k, "10.91.0.3");
        sw.Signal(2);
        Assert.Equal(0, await sw.WaitForExitAsync(TimeSpan.FromSeconds(15)));
        var vxlan = SwitchCommandTests.PortSummaries(sw.StandardOutput)[$"vxlan:10.91.1.2:4789@{s},vni=42"];
        Assert.Equal(30, vxlan["vxlan-dropped-no-vni-flag"]);
        Assert.Equal(10, vxlan["vxlan-dropped-wrong-vni"]);
        Assert.Equal(1, vxlan["vxlan-dropped-truncated"]);
        Assert.Equal(41, vxlan["vxlan-dropped"]);
        Assert.Equal(0, vxlan["dropped"]);
    }

    /// <summary>veth0 10.91.1.1 in S, veth1 10.91.1.2 in K; vx0 (VNI 42, remote 10.91.1.1) with 10.91.0.2/24 in K.</summary>
    private static async Task LinuxVxlanAsync(NetnsScope scope, string s, string k)
    {
        await scope.ConnectAsync(s, "10.91.1.1/24", k, "10.91.1.2/24");
        (await NetnsScope.ExecAsync(k, "ip", "link", "add", "vx0", "type", "vxlan", "id", "42", "remote", "10.91.1.1", "dstport", "4789", "local", "10.91.1.2", "dev", "veth1")).EnsureSuccess();
        (await NetnsScope.ExecAsync(k, "ip", "addr", "add", "10.91.0.2/24", "dev", "vx0")).EnsureSuccess();
        (await NetnsScope.ExecAsync(k, "ip", "link", "set", "vx0", "up")).EnsureSuccess();
    }
}
