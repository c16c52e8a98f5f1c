using System.Globalization;
using System.Text.RegularExpressions;
using TunTap.Emulation;
using TunTap.TestKit;

namespace TunTap.IntegrationTests.Emulation;

/// <summary><see cref="NamespaceLink"/> from the library: real devices in a test scope's namespaces, checked with ping.</summary>
[Collection(nameof(TimingSensitive))]
public sealed partial class NamespaceLinkTests
{
    private const string Device = "emu-t0";

    [Fact]
    public async Task Namespace_link_delays_pings_by_its_models_follows_a_live_change_and_dispose_removes_both_devices()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("nslink", 2);
        var (a, b) = (scope.Names[0], scope.Names[1]);
        var link = await NamespaceLink.CreateAsync(
            new NamespaceLinkEnd(a, Device, InterfaceAddress.Parse("10.201.0.1/24")),
            new NamespaceLinkEnd(b, Device, InterfaceAddress.Parse("10.201.0.2/24")),
            LinkSpecParser.Parse("delay 10ms"),
            LinkSpecParser.Parse("delay 10ms"),
            seed: 1);
        try
        {
            using var stop = new CancellationTokenSource();
            var run = link.RunAsync(stop.Token);
            try
            {
                // Neither RTT can be shorter than the delays it crossed; the upper side is left to the demo and bench.
                Assert.True(await MinimumRttAsync(a, "10.201.0.2") >= 20.0);
                link.Link.AToB.Reconfigure(LinkSpecParser.Parse("delay 40ms"), seed: 2);
                Assert.True(await MinimumRttAsync(a, "10.201.0.2") >= 50.0);
                link.Link.AToB.ReadModelCounters(counters => Assert.True(counters.Delivered >= 6, $"delivered {counters.Delivered}"));
            }
            finally
            {
                await stop.CancelAsync();
                await run;
            }
        }
        finally
        {
            await link.DisposeAsync();
        }

        Assert.False(await DeviceExistsAsync(a));
        Assert.False(await DeviceExistsAsync(b));
    }

    [Fact]
    public async Task Namespace_link_that_cannot_create_its_second_device_removes_the_first()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("nslink", 1);
        var a = scope.Names[0];

        // End B names a namespace that does not exist.
        await Assert.ThrowsAnyAsync<TunTapException>(() => NamespaceLink.CreateAsync(
            new NamespaceLinkEnd(a, Device, InterfaceAddress.Parse("10.201.0.1/24")),
            new NamespaceLinkEnd(scope.NewName(), Device, InterfaceAddress.Parse("10.201.0.2/24")),
            LinkSpecParser.Parse("delay 10ms"),
            LinkSpecParser.Parse("delay 10ms"),
            seed: 1));

        Assert.False(await DeviceExistsAsync(a));
    }

    private static async Task<double> MinimumRttAsync(string netns, string target)
    {
        var ping = await ProcessRunner.RunInAsync(netns, "ping", ["-c", "3", "-i", "0.1", "-W", "5", target], TimeSpan.FromSeconds(30));
        Assert.True(ping.ExitCode == 0, ping.StandardOutput + ping.StandardError);
        var minimum = double.MaxValue;
        foreach (Match match in RttPattern().Matches(ping.StandardOutput))
        {
            minimum = Math.Min(minimum, double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture));
        }

        Assert.NotEqual(double.MaxValue, minimum);
        return minimum;
    }

    private static async Task<bool> DeviceExistsAsync(string netns) =>
        (await NetnsScope.ExecAsync(netns, "ip", "link", "show", Device)).ExitCode == 0;

    [GeneratedRegex(@"time=([\d.]+) ms")]
    private static partial Regex RttPattern();
}
