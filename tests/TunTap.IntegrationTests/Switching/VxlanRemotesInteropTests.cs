using TunTap.IntegrationTests.Cli;
using TunTap.TestKit;

namespace TunTap.IntegrationTests.Switching;

/// <summary>
/// One VXLAN port with two remotes, each a Linux vxlan device (VNI 42) in its own namespace (K1 at
/// 10.92.1.2, K2 at 10.92.2.2, both reached from the switch's namespace S over veths); a TAP port
/// puts namespace T on the same segment.
/// </summary>
public sealed class VxlanRemotesInteropTests
{
    [Fact]
    public async Task A_tap_namespace_pings_two_linux_vteps_behind_one_vxlan_port_and_unicast_is_not_replicated()
    {
        await using var scope = await NetnsScope.CreateAsync("vxr", 4);
        var (s, k1, k2, t) = (scope.Names[0], scope.Names[1], scope.Names[2], scope.Names[3]);
        await LinuxVtepAsync(scope, s, k1, 1, "veth1", "veth2");
        await LinuxVtepAsync(scope, s, k2, 2, "veth3", "veth4");
        await using var sw = TuntapCli.Start("switch", "run", scope.NewName(), "--port", $"vxlan:10.92.1.2+10.92.2.2@{s},vni=42", "--port", $"tap:tt-vxr@{t}", "--stats-interval", "0");
        await sw.WaitForOutputAsync("running with 2 ports", TimeSpan.FromSeconds(30));
        (await NetnsScope.ExecAsync(t, "ip", "addr", "add", "10.92.0.3/24", "dev", "tt-vxr")).EnsureSuccess();

        await SwitchCommandTests.AssertPingAsync(t, "10.92.0.11");
        await SwitchCommandTests.AssertPingAsync(t, "10.92.0.12");
        await SwitchCommandTests.AssertPingAsync(k2, "10.92.0.3");

        // Known unicast goes to one VTEP: 100 pings to K1 add (almost) nothing on K2's underlay.
        var before = await UnderlayRxPacketsAsync(k2, "veth4");
        var flood = await ProcessRunner.RunInAsync(t, "ping", ["-c", "100", "-i", "0.01", "-W", "2", "10.92.0.11"], TimeSpan.FromSeconds(60));
        Assert.True(flood.ExitCode == 0, flood.StandardOutput + flood.StandardError);
        var after = await UnderlayRxPacketsAsync(k2, "veth4");
        Assert.True(after - before < 20, $"K2's underlay received {after - before} packets during 100 pings to K1");

        sw.Signal(2);
        Assert.Equal(0, await sw.WaitForExitAsync(TimeSpan.FromSeconds(15)));
        var vxlan = SwitchCommandTests.PortSummaries(sw.StandardOutput)[$"vxlan:10.92.1.2:4789+10.92.2.2:4789@{s},vni=42"];
        Assert.Equal(0, vxlan["vxlan-dropped"]);
        Assert.True(vxlan["rx-frames"] >= 106, sw.StandardOutput);
    }

    /// <summary>A veth S(10.92.N.1) - K(10.92.N.2) and in K a vxlan device (VNI 42, remote 10.92.N.1) with 10.92.0.1N/24.</summary>
    private static async Task LinuxVtepAsync(NetnsScope scope, string s, string k, int n, string sIf, string kIf)
    {
        await scope.ConnectAsync(s, $"10.92.{n}.1/24", k, $"10.92.{n}.2/24", sIf, kIf);
        (await NetnsScope.ExecAsync(k, "ip", "link", "add", "vx0", "type", "vxlan", "id", "42", "remote", $"10.92.{n}.1", "dstport", "4789", "local", $"10.92.{n}.2", "dev", kIf)).EnsureSuccess();
        (await NetnsScope.ExecAsync(k, "ip", "addr", "add", $"10.92.0.1{n}/24", "dev", "vx0")).EnsureSuccess();
        (await NetnsScope.ExecAsync(k, "ip", "link", "set", "vx0", "up")).EnsureSuccess();
    }

    private static async Task<long> UnderlayRxPacketsAsync(string ns, string device)
    {
        // ip netns exec mounts the namespace's own /sys.
        var result = await NetnsScope.ExecAsync(ns, "cat", $"/sys/class/net/{device}/statistics/rx_packets");
        result.EnsureSuccess();
        return long.Parse(result.StandardOutput.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
