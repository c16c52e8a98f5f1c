using System.Text.RegularExpressions;
using TunTap.Netlink;
using TunTap.TestKit;

namespace TunTap.IntegrationTests.Cli;

public sealed class DemoCommandTests
{
    [Fact]
    public async Task Demo_pings_the_responder_through_the_tunnel_and_through_wireguard_then_removes_its_namespaces()
    {
        Requires.Root();
        Requires.Tool("ping");
        Requires.Tool("iperf3");
        var demo = await TuntapCli.RunAsync(TimeSpan.FromSeconds(120), "demo", "--iperf-seconds", "1");

        Assert.True(demo.ExitCode == 0, demo.StandardOutput + demo.StandardError);
        var output = demo.StandardOutput;
        Assert.Equal(6, CountOf(output, " 0% packet loss"));
        Assert.Contains("receiver", output, StringComparison.Ordinal);
        Assert.Matches(@"tt-tun0: received=\d+ replied=[1-9]", output);
        Assert.Matches(@"B tt-tun1: tx-packets=[1-9]\d{3,}", output);
        Assert.Matches(@"A tt-wg0: peers=1 handshakes=1 .*packets-received=[3-9]", output);
        Assert.Matches(@"B tt-wg0: peers=1 handshakes=1 .*packets-received=[3-9]", output);
        var done = Regex.Match(output, @"done: namespaces (tt-demo-a-[0-9a-f]{6}) and (tt-demo-b-[0-9a-f]{6})");
        Assert.True(done.Success, output);
        Assert.False(NetworkNamespace.Exists(done.Groups[1].Value));
        Assert.False(NetworkNamespace.Exists(done.Groups[2].Value));
    }

    private static int CountOf(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
