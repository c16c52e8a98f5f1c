using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using TunTap.IntegrationTests.Cli;
using TunTap.TestKit;

namespace TunTap.IntegrationTests.Emulation;

/// <summary>
/// <c>tuntap emulate link</c> between two namespaces of a test scope, checked with real programs:
/// ping for delay, loss and determinism, iperf3 for the rate. Bounds are loose on purpose (the
/// machine is shared); bench/emulate.sh measures accuracy.
/// </summary>
[Collection(nameof(TimingSensitive))]
public sealed partial class EmulateLinkCommandTests
{
    private const string AddressB = "10.200.0.2";
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Ping_rtt_median_is_twice_the_one_way_delay_and_never_below_it()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("emu", 2);
        var (a, b) = (scope.Names[0], scope.Names[1]);
        await using var emulator = await StartAsync(a, b, "--delay", "50ms");

        var ping = await ProcessRunner.RunInAsync(a, "ping", ["-c", "30", "-i", "0.05", "-W", "2", AddressB], TimeSpan.FromSeconds(60));
        Assert.True(ping.ExitCode == 0, $"{ping.StandardOutput}\n{ping.StandardError}\n{emulator.Describe()}");
        var rtts = Rtts(ping.StandardOutput);
        Assert.Equal(30, rtts.Count);
        rtts.Sort();
        var median = rtts[rtts.Count / 2];
        // Never early; late only by scheduling, which a loaded 2-core machine stretches (bench/emulate.sh measures accuracy).
        Assert.InRange(median, 100.0, 120.0);
        Assert.True(rtts[0] >= 100.0, $"an RTT below the configured 2 × 50 ms: {string.Join(' ', rtts)}");

        var summary = await StopAsync(emulator);
        Assert.True(summary["a->b offered"] >= 30, emulator.StandardOutput);
        Assert.True(summary["b->a written"] >= 30, emulator.StandardOutput);
        Assert.Equal(0, summary["a->b in-flight"]);
    }

    [Fact]
    public async Task Loss_rate_over_200_pings_is_within_three_sigma_of_the_setting()
    {
        Requires.Root();
        await using var scope = await Ipv4OnlyAsync();
        var (a, b) = (scope.Names[0], scope.Names[1]);
        await using var emulator = await StartAsync(a, b, "--loss", "20%", "--seed", "11");

        var ping = await ProcessRunner.RunInAsync(a, "ping", ["-c", "200", "-i", "0.01", "-W", "1", AddressB], TimeSpan.FromSeconds(60));
        var received = Sequences(ping.StandardOutput).Count;

        // Both directions lose 20%: a reply comes back with probability 0.64 (mean 128, σ 6.8).
        Assert.InRange(received, 108, 148);
        var summary = await StopAsync(emulator);
        var offered = summary["a->b offered"];
        var lost = summary["a->b dropped-loss"];
        var sigma = Math.Sqrt(offered * 0.2 * 0.8);
        Assert.InRange(lost, (offered * 0.2) - (3 * sigma), (offered * 0.2) + (3 * sigma));
        Assert.Equal(offered - lost, summary["a->b written"]);
        Assert.Equal(received, summary["b->a written"]);
    }

    [Fact]
    public async Task Rate_limit_of_10_mbit_holds_iperf3_goodput_near_10_mbit()
    {
        Requires.Root();
        Requires.Tool("iperf3");
        await using var scope = await NetnsScope.CreateAsync("emu", 2);
        var (a, b) = (scope.Names[0], scope.Names[1]);
        await using var emulator = await StartAsync(a, b, "--rate", "10mbit", "--delay", "5ms");
        await using var server = ProcessRunner.StartBackground("ip", ["netns", "exec", b, "iperf3", "-s", "-1", "--forceflush", "-B", AddressB]);
        await server.WaitForOutputAsync("Server listening", Startup);

        var iperf = await ProcessRunner.RunInAsync(a, "iperf3", ["-c", AddressB, "-t", "3", "-J"], TimeSpan.FromSeconds(60));
        Assert.True(iperf.ExitCode == 0, $"{iperf.StandardOutput}\n{iperf.StandardError}");
        using var json = JsonDocument.Parse(iperf.StandardOutput);
        var bitsPerSecond = json.RootElement.GetProperty("end").GetProperty("sum_received").GetProperty("bits_per_second").GetDouble();
        Assert.InRange(bitsPerSecond / 1e6, 7.0, 10.5);
        await StopAsync(emulator);
    }

    [Fact]
    public async Task Same_seed_and_same_pings_lose_the_same_sequence_numbers()
    {
        Requires.Root();
        await using var scope = await Ipv4OnlyAsync();
        var (a, b) = (scope.Names[0], scope.Names[1]);

        var first = await ReceivedWithSeedAsync(a, b, "42");
        var second = await ReceivedWithSeedAsync(a, b, "42");
        var other = await ReceivedWithSeedAsync(a, b, "43");
        Assert.InRange(first.Count, 30, 80);
        Assert.Equal(first, second);
        Assert.NotEqual(first, other);
    }

    private static async Task<SortedSet<int>> ReceivedWithSeedAsync(string a, string b, string seed)
    {
        await using var emulator = await StartAsync(a, b, "--loss", "25%", "--seed", seed);
        var ping = await ProcessRunner.RunInAsync(a, "ping", ["-c", "100", "-i", "0.01", "-W", "1", AddressB], TimeSpan.FromSeconds(60));
        var summary = await StopAsync(emulator);
        Assert.Equal(100, summary["a->b offered"]);
        return Sequences(ping.StandardOutput);
    }

    [Theory]
    [InlineData(new[] { "--loss", "150%" }, "--loss: 150% is out of range; allowed 0-100%")]
    [InlineData(new[] { "--delay", "fast" }, "--delay: 'fast' after 'delay' is not a time")]
    [InlineData(new[] { "--rate", "-5mbit" }, "--rate: '-5mbit' after 'rate' is not a rate")]
    [InlineData(new[] { "--spec", "delay 10ms wobble 3" }, "link spec: unknown option 'wobble'")]
    [InlineData(new[] { "--b-to-a", "loss 101%" }, "--loss: 101% is out of range; allowed 0-100%")]
    public async Task Bad_model_options_fail_with_one_line_and_create_nothing(string[] options, string expected)
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("emu", 0);
        var (a, b) = (scope.NewName(), scope.NewName());
        scope.Adopt(a);
        scope.Adopt(b);
        var result = await TuntapCli.RunAsync(["emulate", "link", "--a", a, "--b", b, .. options]);
        TuntapCli.AssertUserError(result, expected);
        Assert.False(File.Exists($"/run/netns/{a}"));
        Assert.False(File.Exists($"/run/netns/{b}"));
    }

    [Fact]
    public async Task The_same_namespace_for_both_ends_is_refused()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("emu", 1);
        var result = await TuntapCli.RunAsync("emulate", "link", "--a", scope.Names[0], "--b", scope.Names[0]);
        TuntapCli.AssertUserError(result, $"--a and --b both name '{scope.Names[0]}'");
    }

    [Fact]
    public async Task Namespaces_the_command_created_are_gone_after_exit_and_existing_ones_stay()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("emu", 1);
        var existing = scope.Names[0];
        var fresh = scope.NewName();
        scope.Adopt(fresh);
        var pcapDir = Path.Combine(Path.GetTempPath(), scope.NewName());
        try
        {
            await using var emulator = await StartAsync(existing, fresh, "--pcap", pcapDir);
            Assert.Contains($"namespace {fresh}: created", emulator.StandardOutput, StringComparison.Ordinal);
            Assert.True(File.Exists($"/run/netns/{fresh}"));
            var ping = await ProcessRunner.RunInAsync(existing, "ping", ["-c", "3", "-i", "0.1", "-W", "2", AddressB], TimeSpan.FromSeconds(30));
            Assert.True(ping.ExitCode == 0, ping.StandardOutput + emulator.Describe());

            await StopAsync(emulator);
            Assert.Contains($"namespace {fresh}: removed", emulator.StandardOutput, StringComparison.Ordinal);
            Assert.False(File.Exists($"/run/netns/{fresh}"));
            Assert.True(File.Exists($"/run/netns/{existing}"));
            var links = await ProcessRunner.RunInAsync(existing, "ip", ["-o", "link"]);
            Assert.DoesNotContain("emu0", links.StandardOutput, StringComparison.Ordinal);

            // Each end's capture holds its 3 requests and 3 replies.
            Assert.True(new FileInfo(Path.Combine(pcapDir, "a.pcap")).Length > 24 + (6 * (16 + 84)) - 1);
            Assert.True(new FileInfo(Path.Combine(pcapDir, "b.pcap")).Length > 24 + (6 * (16 + 84)) - 1);
        }
        finally
        {
            if (Directory.Exists(pcapDir))
            {
                Directory.Delete(pcapDir, recursive: true);
            }
        }
    }

    /// <summary>Two namespaces without IPv6, so no router solicitations or MLD reports cross the link: only what the test sends.</summary>
    private static async Task<NetnsScope> Ipv4OnlyAsync()
    {
        var scope = await NetnsScope.CreateAsync("emu", 2);
        try
        {
            foreach (var ns in scope.Names)
            {
                (await ProcessRunner.RunInAsync(ns, "sysctl", ["-w", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"])).EnsureSuccess();
            }
        }
        catch
        {
            await scope.DisposeAsync();
            throw;
        }

        return scope;
    }

    internal static async Task<BackgroundProcess> StartAsync(string a, string b, params string[] options)
    {
        var process = TuntapCli.Start(["emulate", "link", "--a", a, "--b", b, "--stats-interval", "0", .. options]);
        try
        {
            await process.WaitForOutputAsync("Ctrl-C stops", Startup);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }

        return process;
    }

    /// <summary>Stops the command with Ctrl-C, asserts a clean exit, and returns its summary as "direction counter" → value.</summary>
    internal static async Task<Dictionary<string, long>> StopAsync(BackgroundProcess emulator)
    {
        emulator.Signal(2);
        Assert.Equal(0, await emulator.WaitForExitAsync(TimeSpan.FromSeconds(15)));
        var line = emulator.StandardOutput.Split('\n').LastOrDefault(l => l.StartsWith("summary:", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"no summary line:\n{emulator.Describe()}");
        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var part in line["summary:".Length..].Split(" | "))
        {
            var direction = part.Trim()[..4];
            foreach (Match m in Field().Matches(part))
            {
                values[$"{direction} {m.Groups[1].Value}"] = long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
            }
        }

        return values;
    }

    private static List<double> Rtts(string pingOutput)
    {
        var list = new List<double>();
        foreach (Match m in RttField().Matches(pingOutput))
        {
            list.Add(double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        }

        return list;
    }

    private static SortedSet<int> Sequences(string pingOutput)
    {
        var set = new SortedSet<int>();
        foreach (Match m in SequenceField().Matches(pingOutput))
        {
            set.Add(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        }

        return set;
    }

    [GeneratedRegex(@"([a-z/-]+)=(-?\d+)")]
    private static partial Regex Field();

    [GeneratedRegex(@"time=([0-9.]+) ms")]
    private static partial Regex RttField();

    [GeneratedRegex(@"icmp_seq=(\d+) ttl")]
    private static partial Regex SequenceField();
}
