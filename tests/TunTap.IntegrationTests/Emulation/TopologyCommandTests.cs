using System.Globalization;
using System.Text.RegularExpressions;
using TunTap.IntegrationTests.Cli;
using TunTap.TestKit;

namespace TunTap.IntegrationTests.Emulation;

/// <summary>
/// <c>tuntap emulate up/exec/set/down</c> with real topologies: the examples come up, carry pings
/// across routers, change a link's model live, and leave nothing behind. Each test names its
/// topology after a fresh scope name (namespaces NAME-HOST, adopted by the scope), so parallel runs
/// never collide, and always runs 'down' in a finally.
/// </summary>
[Collection(nameof(TimingSensitive))]
public sealed partial class TopologyCommandTests
{
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(30);

    private static string Example(string file)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        for (var i = 0; i < 12 && directory is not null; i++, directory = directory.Parent)
        {
            var path = Path.Combine(directory.FullName, "examples", file);
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new FileNotFoundException($"examples/{file} not found above {AppContext.BaseDirectory}");
    }

    [Theory]
    [InlineData("dumbbell.toml", "s1", "10.77.4.2", new[] { "s1", "s2", "r1", "r2", "d1", "d2" })]
    [InlineData("dumbbell.toml", "d2", "10.77.1.1", new[] { "s1", "s2", "r1", "r2", "d1", "d2" })]
    [InlineData("wifi-last-hop.toml", "laptop", "10.77.1.2", new[] { "laptop", "ap", "server" })]
    [InlineData("cellular.toml", "phone", "10.77.1.2", new[] { "phone", "tower", "server" })]
    public async Task An_example_comes_up_pings_across_its_routers_and_goes_down_without_leftovers(string file, string from, string to, string[] hosts)
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("topo", 0);
        var name = scope.NewName();
        var path = Example(file);
        await using (var topology = await UpAsync(scope, path, name, hosts))
        {
            try
            {
                var ping = await TuntapCli.RunAsync(TimeSpan.FromSeconds(60), "emulate", "exec", "--name", name, from, "--", "ping", "-c", "5", "-i", "0.2", "-W", "5", to);
                Assert.True(ping.ExitCode == 0, $"{ping.StandardOutput}\n{ping.StandardError}\n{topology.Describe()}");
                Assert.NotEmpty(Rtts(ping.StandardOutput));
            }
            finally
            {
                await DownAsync(path, name);
            }

            Assert.Equal(0, await topology.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        }

        AssertNothingLeft(name);
    }

    [Fact]
    public async Task Set_changes_a_running_links_delay_and_ping_sees_it()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("topo", 0);
        var name = scope.NewName();
        var path = Path.Combine(Path.GetTempPath(), $"{name}.toml");
        await File.WriteAllTextAsync(path, """
            [hosts.left]
            [hosts.right]

            [[links]]
            name = "wire"
            a = "left"
            b = "right"
            delay = "20ms"
            rate = "100mbit"
            """, TestContext.Current.CancellationToken);
        try
        {
            await using var topology = await UpAsync(scope, path, name, ["left", "right"]);
            try
            {
                // Warm up first: the first packets also pay for JIT compiling the data path.
                await TuntapCli.RunAsync(TimeSpan.FromSeconds(60), "emulate", "exec", "--name", name, "left", "--", "ping", "-c", "2", "-W", "10", "10.77.0.2");
                var before = await PingRttsAsync(name, topology);
                Assert.InRange(Median(before), 40.0, 80.0);
                Assert.True(before.Min() >= 40.0, string.Join(' ', before));

                var set = await TuntapCli.RunAsync("emulate", "set", "--name", name, "wire", "--delay", "100ms");
                Assert.True(set.ExitCode == 0, set.StandardOutput + set.StandardError);
                Assert.Contains("link wire: a->b: rate 100mbit delay 100ms; b->a: rate 100mbit delay 100ms", set.StandardOutput, StringComparison.Ordinal);

                var after = await PingRttsAsync(name, topology);
                Assert.InRange(Median(after), 200.0, 260.0);
                Assert.True(after.Min() >= 200.0, string.Join(' ', after));

                // One direction only: 10 ms there, 100 ms back.
                var oneWay = await TuntapCli.RunAsync("emulate", "set", "--name", name, "wire", "--dir", "a2b", "--delay", "10ms");
                Assert.True(oneWay.ExitCode == 0, oneWay.StandardOutput + oneWay.StandardError);
                var asymmetric = await PingRttsAsync(name, topology);
                Assert.InRange(Median(asymmetric), 110.0, 170.0);

                var bad = await TuntapCli.RunAsync("emulate", "set", "--name", name, "nowire", "--delay", "1ms");
                TuntapCli.AssertUserError(bad, $"emulation {name} has no link 'nowire'");

                var code = await TuntapCli.RunAsync("emulate", "exec", "--name", name, "right", "--", "sh", "-c", "exit 7");
                Assert.Equal(7, code.ExitCode);
            }
            finally
            {
                await DownAsync(path, name);
            }

            Assert.Equal(0, await topology.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            AssertNothingLeft(name);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Emulate_link_with_a_name_takes_live_changes_too()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("topo", 2);
        var name = scope.NewName();
        await using var emulator = TuntapCli.Start("emulate", "link", "--a", scope.Names[0], "--b", scope.Names[1], "--name", name, "--stats-interval", "0");
        await emulator.WaitForOutputAsync("Ctrl-C stops", Startup);

        // The first packets also pay for JIT compiling the data path (a second or more on a loaded machine): warm up first.
        await ProcessRunner.RunInAsync(scope.Names[0], "ping", ["-c", "2", "-W", "10", "10.200.0.2"], TimeSpan.FromSeconds(60));
        var before = await ProcessRunner.RunInAsync(scope.Names[0], "ping", ["-c", "5", "-i", "0.1", "-W", "5", "10.200.0.2"], TimeSpan.FromSeconds(60));
        Assert.True(Median(Rtts(before.StandardOutput)) < 40.0, before.StandardOutput);

        var set = await TuntapCli.RunAsync("emulate", "set", "--name", name, "--delay", "60ms");
        Assert.True(set.ExitCode == 0, set.StandardOutput + set.StandardError + emulator.Describe());
        var after = await ProcessRunner.RunInAsync(scope.Names[0], "ping", ["-c", "5", "-i", "0.1", "-W", "5", "10.200.0.2"], TimeSpan.FromSeconds(60));
        var rtts = Rtts(after.StandardOutput);
        Assert.True(rtts.Count > 0 && rtts.Min() >= 120.0, after.StandardOutput);

        emulator.Signal(2);
        Assert.Equal(0, await emulator.WaitForExitAsync(TimeSpan.FromSeconds(15)));
        Assert.False(File.Exists($"/run/tuntap/emulate-{name}.sock"));
    }

    [Fact]
    public async Task Down_cleans_up_after_a_killed_up_and_is_idempotent()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("topo", 0);
        var name = scope.NewName();
        var path = Example("wifi-last-hop.toml");
        try
        {
            await using (var topology = await UpAsync(scope, path, name, ["laptop", "ap", "server"]))
            {
                topology.Signal(9);
                await topology.WaitForExitAsync(TimeSpan.FromSeconds(30));
            }

            Assert.True(File.Exists($"/run/netns/{name}-laptop"));
            var down = await DownAsync(path, name);
            Assert.Contains($"namespace {name}-laptop: removed", down, StringComparison.Ordinal);
            Assert.Contains($"control socket /run/tuntap/emulate-{name}.sock: removed", down, StringComparison.Ordinal);
            AssertNothingLeft(name);

            var again = await DownAsync(path, name);
            Assert.DoesNotContain("removed", again, StringComparison.Ordinal);
        }
        finally
        {
            await DownAsync(path, name);
        }
    }

    [Fact]
    public async Task A_malformed_file_fails_naming_the_line_and_creates_nothing()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("topo", 0);
        var name = scope.NewName();
        var path = Path.Combine(Path.GetTempPath(), $"{name}.toml");
        await File.WriteAllTextAsync(path, "[hosts.a]\n[hosts.b]\n[[links]]\na = \"a\"\nb = \"b\"\nloss = \"150%\"\n", TestContext.Current.CancellationToken);
        try
        {
            scope.Adopt($"{name}-a");
            scope.Adopt($"{name}-b");
            var result = await TuntapCli.RunAsync("emulate", "up", path, "--name", name);
            TuntapCli.AssertUserError(result, $"{path}:6: loss = \"150%\": --loss: 150% is out of range; allowed 0-100%");
            AssertNothingLeft(name);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Up_refuses_a_topology_whose_namespace_exists_and_touches_nothing()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("topo", 0);
        var name = scope.NewName();
        scope.Adopt($"{name}-laptop");
        scope.Adopt($"{name}-ap");
        scope.Adopt($"{name}-server");
        (await ProcessRunner.RunAsync("ip", ["netns", "add", $"{name}-ap"], TimeSpan.FromSeconds(10))).EnsureSuccess();

        var result = await TuntapCli.RunAsync("emulate", "up", Example("wifi-last-hop.toml"), "--name", name);
        TuntapCli.AssertUserError(result, $"network namespace '{name}-ap' already exists");
        Assert.False(File.Exists($"/run/netns/{name}-laptop"));
        Assert.True(File.Exists($"/run/netns/{name}-ap"));
        Assert.False(File.Exists($"/run/tuntap/emulate-{name}.sock"));
    }

    private static async Task<BackgroundProcess> UpAsync(NetnsScope scope, string path, string name, string[] hosts)
    {
        foreach (var host in hosts)
        {
            scope.Adopt($"{name}-{host}");
        }

        var process = TuntapCli.Start("emulate", "up", path, "--name", name, "--stats-interval", "0");
        try
        {
            await process.WaitForOutputAsync("emulate: ready", Startup);
        }
        catch
        {
            await DownAsync(path, name);
            await process.DisposeAsync();
            throw;
        }

        return process;
    }

    private static async Task<string> DownAsync(string path, string name)
    {
        var down = await TuntapCli.RunAsync(TimeSpan.FromSeconds(60), "emulate", "down", path, "--name", name);
        Assert.True(down.ExitCode == 0, down.StandardOutput + down.StandardError);
        return down.StandardOutput;
    }

    private static async Task<List<double>> PingRttsAsync(string name, BackgroundProcess topology)
    {
        var ping = await TuntapCli.RunAsync(TimeSpan.FromSeconds(60), "emulate", "exec", "--name", name, "left", "--", "ping", "-c", "10", "-i", "0.1", "-W", "5", "10.77.0.2");
        Assert.True(ping.ExitCode == 0, $"{ping.StandardOutput}\n{ping.StandardError}\n{topology.Describe()}");
        var rtts = Rtts(ping.StandardOutput);
        Assert.True(rtts.Count >= 8, ping.StandardOutput);
        return rtts;
    }

    private static void AssertNothingLeft(string name)
    {
        var left = Directory.Exists("/run/netns") ? Directory.GetFiles("/run/netns", $"{name}-*") : [];
        Assert.Empty(left);
        Assert.False(File.Exists($"/run/tuntap/emulate-{name}.sock"));
    }

    private static double Median(List<double> values)
    {
        Assert.NotEmpty(values);
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
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

    [GeneratedRegex(@"time=([0-9.]+) ms")]
    private static partial Regex RttField();
}
