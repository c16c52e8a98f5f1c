using System.Globalization;
using System.Text.RegularExpressions;
using TunTap.IntegrationTests.Emulation;
using TunTap.Netlink;
using TunTap.TestKit;

namespace TunTap.IntegrationTests.Cli;

// Part 4 measures ping RTTs: run alone, not beside another test's iperf3.
[Collection(nameof(TimingSensitive))]
public sealed class DemoCommandTests
{
    [Fact]
    public async Task Demo_pings_the_responder_through_the_tunnel_through_wireguard_and_across_an_emulated_link_then_removes_its_namespaces()
    {
        Requires.Root();
        Requires.Tool("ping");
        Requires.Tool("iperf3");
        var demo = await TuntapCli.RunAsync(TimeSpan.FromSeconds(120), "demo", "--iperf-seconds", "1");

        Assert.True(demo.ExitCode == 0, demo.StandardOutput + demo.StandardError);
        var output = demo.StandardOutput;
        Assert.Equal(7, CountOf(output, " 0% packet loss"));
        Assert.Contains("receiver", output, StringComparison.Ordinal);
        Assert.Matches(@"tt-tun0: received=\d+ replied=[1-9]", output);
        Assert.Matches(@"B tt-tun1: tx-packets=[1-9]\d{3,}", output);
        Assert.Matches(@"A tt-wg0: peers=1 handshakes=1 .*packets-received=[3-9]", output);
        Assert.Matches(@"B tt-wg0: peers=1 handshakes=1 .*packets-received=[3-9]", output);
        AssertEmulationPart(output);
        var done = Regex.Match(output, @"done: namespaces (tt-demo-a-[0-9a-f]{6}) and (tt-demo-b-[0-9a-f]{6})");
        Assert.True(done.Success, output);
        Assert.False(NetworkNamespace.Exists(done.Groups[1].Value));
        Assert.False(NetworkNamespace.Exists(done.Groups[2].Value));
    }

    // Part 4: 5 pings over 'delay 20ms' each way, then 20 over 'delay 50ms 5ms loss 10%' set live.
    // An RTT cannot be shorter than the two delays; the upper bounds leave room for a busy machine
    // (seen: single RTTs 40 ms over the model while other builds ran), and still tell the models apart.
    private static void AssertEmulationPart(string output)
    {
        var part = output.IndexOf("part 4:", StringComparison.Ordinal);
        var change = output.IndexOf("live change", StringComparison.Ordinal);
        var counters = output.IndexOf("link A->B:", StringComparison.Ordinal);
        Assert.True(part >= 0 && change > part && counters > change, output);
        var before = Rtts(output[part..change]);
        var after = Rtts(output[change..counters]);
        Assert.True(before.Count == 5, output);
        Assert.InRange(Median(before), 39.0, 70.0);
        Assert.InRange(Median(after), 89.0, 150.0);

        // The seed is fixed and the link carries only the pings (IPv6 is off on it), so the losses
        // are the same every run: some of the 20 (near-certain for any seed: 0.81^20 = 1.5% lose none).
        var statistics = Regex.Match(output[change..counters], @"20 packets transmitted, (\d+) received");
        Assert.True(statistics.Success, output);
        Assert.InRange(int.Parse(statistics.Groups[1].Value, CultureInfo.InvariantCulture), 1, 19);
        var aToB = Regex.Match(output, @"link A->B: offered=(\d+) delivered=\d+ dropped-loss=(\d+) dropped-queue-full=0");
        var bToA = Regex.Match(output, @"link B->A: offered=\d+ delivered=\d+ dropped-loss=(\d+) dropped-queue-full=0");
        Assert.True(aToB.Success && bToA.Success, output);
        Assert.Equal("25", aToB.Groups[1].Value);
        Assert.True(int.Parse(aToB.Groups[2].Value, CultureInfo.InvariantCulture) + int.Parse(bToA.Groups[1].Value, CultureInfo.InvariantCulture) > 0, output);
    }

    private static List<double> Rtts(string text)
    {
        var rtts = new List<double>();
        foreach (Match match in Regex.Matches(text, @"time=([\d.]+) ms"))
        {
            rtts.Add(double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture));
        }

        return rtts;
    }

    private static double Median(List<double> values)
    {
        Assert.NotEmpty(values);
        values.Sort();
        return values[values.Count / 2];
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
