using TunTap.IntegrationTests.Cli;
using TunTap.TestKit;

namespace TunTap.IntegrationTests.Switching;

public sealed class SwitchGatewayTests
{
    [Fact]
    public async Task A_namespace_pings_the_switch_gateway_over_ipv4_and_ipv6_and_other_addresses_stay_silent()
    {
        await using var scope = await NetnsScope.CreateAsync("swg", 1);
        var a = scope.Names[0];
        await using var sw = TuntapCli.Start("switch", "run", scope.NewName(), "--port", $"tap:tt-ga@{a}", "--gateway", "10.94.0.1/24", "--gateway", "fd00:94::1/64", "--stats-interval", "0");
        await sw.WaitForOutputAsync("running with 1 port", TimeSpan.FromSeconds(30));
        Assert.Contains("gateway 10.94.0.1/24, fd00:94::1/64 at 02:", sw.StandardOutput, StringComparison.Ordinal);
        (await NetnsScope.ExecAsync(a, "ip", "addr", "add", "10.94.0.2/24", "dev", "tt-ga")).EnsureSuccess();
        (await NetnsScope.ExecAsync(a, "ip", "addr", "add", "fd00:94::2/64", "dev", "tt-ga", "nodad")).EnsureSuccess();

        await SwitchCommandTests.AssertPingAsync(a, "10.94.0.1");
        await SwitchCommandTests.AssertPingAsync(a, "fd00:94::1");
        var silent = await ProcessRunner.RunInAsync(a, "ping", ["-c", "1", "-W", "1", "10.94.0.3"], TimeSpan.FromSeconds(20));
        Assert.NotEqual(0, silent.ExitCode);

        var neighbours = await NetnsScope.ExecAsync(a, "ip", "neigh", "show", "10.94.0.1");
        Assert.Contains("lladdr 02:", neighbours.StandardOutput, StringComparison.Ordinal);

        sw.Signal(2);
        Assert.Equal(0, await sw.WaitForExitAsync(TimeSpan.FromSeconds(15)));
        var gateway = SwitchCommandTests.PortSummaries(sw.StandardOutput)["gateway:10.94.0.1/24,fd00:94::1/64"];
        Assert.True(gateway["gateway-replies"] >= 6, sw.StandardOutput); // ARP, NA, 2 + 2 echo replies
        Assert.True(gateway["tx-frames"] >= gateway["gateway-replies"], sw.StandardOutput);
        Assert.Equal(0, gateway["gateway-dropped"]);
    }
}
