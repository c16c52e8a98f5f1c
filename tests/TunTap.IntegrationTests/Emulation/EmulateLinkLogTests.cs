using System.Globalization;
using System.Text.RegularExpressions;
using TunTap.IntegrationTests.Cli;
using TunTap.TestKit;

namespace TunTap.IntegrationTests.Emulation;

/// <summary><c>tuntap emulate link --log</c> with real traffic, then <c>tuntap plot</c> on that log.</summary>
public sealed partial class EmulateLinkLogTests : IAsyncDisposable
{
    private const string AddressB = "10.200.0.2";
    private readonly string _directory = Directory.CreateTempSubdirectory("tt-emulog-").FullName;

    public ValueTask DisposeAsync()
    {
        Directory.Delete(_directory, recursive: true);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Log_of_pings_over_a_delayed_rate_limited_link_has_matched_delays_and_plots_to_png_and_svg()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("emulog", 2);
        var (a, b) = (scope.Names[0], scope.Names[1]);
        var log = Path.Combine(_directory, "link.csv");
        await using (var emulator = await EmulateLinkCommandTests.StartAsync(a, b, "--delay", "20ms", "--rate", "10mbit", "--no-ipv6", "--log", log))
        {
            var ping = await ProcessRunner.RunInAsync(a, "ping", ["-c", "20", "-i", "0.05", "-W", "5", "-s", "1000", AddressB], TimeSpan.FromSeconds(60));
            Assert.True(ping.ExitCode == 0, $"{ping.StandardOutput}\n{ping.StandardError}\n{emulator.Describe()}");
            await EmulateLinkCommandTests.StopAsync(emulator);
            var line = LogLine().Match(emulator.StandardOutput);
            Assert.True(line.Success, emulator.Describe());
            Assert.Equal(log, line.Groups[1].Value);
            Assert.Equal(80, int.Parse(line.Groups[2].Value, CultureInfo.InvariantCulture));
            Assert.Equal("0", line.Groups[3].Value);
        }

        // Without IPv6 only the pings cross: 20 each way, each with an arrival and a departure.
        var lines = await File.ReadAllLinesAsync(log, TestContext.Current.CancellationToken);
        Assert.Equal("time_us,direction,event,id,size,queue_packets,queue_bytes,held_packets,cause", lines[0]);
        Assert.Equal(81, lines.Length);
        var arrivals = new Dictionary<(string, long), long>();
        var delays = new List<long>();
        foreach (var row in lines.Skip(1))
        {
            var f = row.Split(',');
            var key = (f[1], long.Parse(f[3], CultureInfo.InvariantCulture));
            var time = long.Parse(f[0], CultureInfo.InvariantCulture);
            Assert.Equal("1028", f[4]);
            if (f[2] == "arrival")
            {
                arrivals.Add(key, time);
            }
            else
            {
                Assert.Equal("departure", f[2]);
                delays.Add(time - arrivals[key]);
            }
        }

        // 20 ms of delay plus 1028 bytes at 10 Mbit/s (822 µs): the model's times are exact (µs
        // rounding aside). A ping sent late in a burst may wait behind the one before it.
        Assert.Equal(40, delays.Count);
        Assert.All(delays, d => Assert.InRange(d, 20_822 - 1, 30_000));
        delays.Sort();
        Assert.InRange(delays[20], 20_822 - 1, 20_822 + 1);

        var png = Path.Combine(_directory, "link.png");
        var svg = Path.Combine(_directory, "link.svg");
        var plotPng = await TuntapCli.RunAsync("plot", log, "-o", png, "--interval", "200ms");
        Assert.True(plotPng.ExitCode == 0, plotPng.StandardOutput + plotPng.StandardError);
        Assert.Contains($"plot: {png} (80 events", plotPng.StandardOutput, StringComparison.Ordinal);
        var pngBytes = await File.ReadAllBytesAsync(png, TestContext.Current.CancellationToken);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, pngBytes[..8]);
        Assert.True(pngBytes.Length > 20_000, $"a {pngBytes.Length}-byte PNG is too small for three panels");

        var plotSvg = await TuntapCli.RunAsync("plot", log, "-o", svg);
        Assert.True(plotSvg.ExitCode == 0, plotSvg.StandardOutput + plotSvg.StandardError);
        var svgText = await File.ReadAllTextAsync(svg, TestContext.Current.CancellationToken);
        Assert.Contains("<svg", svgText, StringComparison.Ordinal);
        Assert.True(PathElement().Count(svgText) > 50, $"{PathElement().Count(svgText)} path elements in the SVG");
    }

    [Fact]
    public async Task Json_lines_log_holds_the_same_events()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("emulog", 2);
        var (a, b) = (scope.Names[0], scope.Names[1]);
        var log = Path.Combine(_directory, "link.jsonl");
        await using (var emulator = await EmulateLinkCommandTests.StartAsync(a, b, "--delay", "5ms", "--no-ipv6", "--log", log))
        {
            var ping = await ProcessRunner.RunInAsync(a, "ping", ["-c", "3", "-i", "0.1", "-W", "5", AddressB], TimeSpan.FromSeconds(60));
            Assert.True(ping.ExitCode == 0, $"{ping.StandardOutput}\n{ping.StandardError}\n{emulator.Describe()}");
            await EmulateLinkCommandTests.StopAsync(emulator);
        }

        var lines = await File.ReadAllLinesAsync(log, TestContext.Current.CancellationToken);
        Assert.Equal(12, lines.Length);
        Assert.All(lines, l => Assert.Matches("^\\{\"time_us\":\\d+,\"direction\":\"(a->b|b->a)\",\"event\":\"(arrival|departure)\",\"id\":[0-2],\"size\":84,", l));

        var svg = Path.Combine(_directory, "link.svg");
        var plot = await TuntapCli.RunAsync("plot", log, "-o", svg);
        Assert.True(plot.ExitCode == 0, plot.StandardOutput + plot.StandardError);
        Assert.True(new FileInfo(svg).Length > 1000);
    }

    [Fact]
    public async Task Plot_of_a_missing_or_malformed_log_fails_with_one_line_naming_it()
    {
        var missing = Path.Combine(_directory, "missing.csv");
        TuntapCli.AssertUserError(await TuntapCli.RunAsync("plot", missing, "-o", Path.Combine(_directory, "x.png")), $"{missing}: no such file");

        var malformed = Path.Combine(_directory, "bad.csv");
        await File.WriteAllTextAsync(malformed, "time_us,direction,event,id,size,queue_packets,queue_bytes,held_packets,cause\n1,a->b,arrival,0,84,0,0,1,\n2,a->b,sneeze,0,84,0,0,1,\n", TestContext.Current.CancellationToken);
        TuntapCli.AssertUserError(await TuntapCli.RunAsync("plot", malformed, "-o", Path.Combine(_directory, "x.png")), $"{malformed}: line 3: unknown event 'sneeze'");

        TuntapCli.AssertUserError(await TuntapCli.RunAsync("plot", malformed, "-o", Path.Combine(_directory, "x.jpg")), "--output: 'x.jpg' must end in .png or .svg");
        Assert.False(File.Exists(Path.Combine(_directory, "x.png")));
    }

    [GeneratedRegex(@"^log: (\S+) \((\d+) events, (\d+) dropped\)", RegexOptions.Multiline)]
    private static partial Regex LogLine();

    [GeneratedRegex("<path")]
    private static partial Regex PathElement();
}
