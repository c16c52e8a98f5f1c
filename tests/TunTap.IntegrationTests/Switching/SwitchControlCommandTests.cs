using System.Text.Json;
using TunTap.IntegrationTests.Cli;
using TunTap.TestKit;

namespace TunTap.IntegrationTests.Switching;

/// <summary><c>tuntap switch port add|del|list</c>, <c>mac</c> and <c>stats</c> against a running switch.</summary>
public sealed class SwitchControlCommandTests
{
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_tap_port_added_over_the_cli_forwards_is_listed_and_del_removes_it()
    {
        await using var scope = await NetnsScope.CreateAsync("swc", 2);
        var (a, b) = (scope.Names[0], scope.Names[1]);
        var name = scope.NewName();
        var socket = $"/run/tuntap/switch-{name}.sock";
        await using var sw = TuntapCli.Start("switch", "run", name, "--port", $"tap:tt-ca@{a}", "--stats-interval", "0");
        await sw.WaitForOutputAsync("running with 1 port", Startup);
        Assert.Contains($"control socket {socket}", sw.StandardOutput, StringComparison.Ordinal);
        Assert.Equal("600 socket", (await ProcessRunner.RunAsync("stat", ["-c", "%a %F", socket])).StandardOutput.Trim());

        var add = await TuntapCli.RunAsync("switch", "port", "add", name, $"tap:tt-cb@{b},vlan=1");
        Assert.True(add.ExitCode == 0, add.StandardError);
        Assert.Contains($"port 1: tap:tt-cb@{b} (access:1) added", add.StandardOutput, StringComparison.Ordinal);
        (await NetnsScope.ExecAsync(a, "ip", "addr", "add", "10.92.0.1/24", "dev", "tt-ca")).EnsureSuccess();
        (await NetnsScope.ExecAsync(b, "ip", "addr", "add", "10.92.0.2/24", "dev", "tt-cb")).EnsureSuccess();
        await SwitchCommandTests.AssertPingAsync(a, "10.92.0.2");

        var list = await TuntapCli.RunAsync("switch", "port", "list", name);
        Assert.Equal(0, list.ExitCode);
        Assert.Contains($"tap:tt-ca@{a}", list.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"tap:tt-cb@{b}", list.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("forwarding", list.StandardOutput, StringComparison.Ordinal);

        var json = await TuntapCli.RunAsync("switch", "port", "list", name, "--json");
        using (var ports = JsonDocument.Parse(json.StandardOutput))
        {
            Assert.Equal([$"tap:tt-ca@{a}", $"tap:tt-cb@{b}"], ports.RootElement.GetProperty("ports").EnumerateArray().Select(p => p.GetProperty("name").GetString()));
        }

        using (var macs = JsonDocument.Parse((await TuntapCli.RunAsync("switch", "mac", name, "--json")).StandardOutput))
        {
            var learned = macs.RootElement.GetProperty("macs").EnumerateArray().ToList();
            Assert.Equal(2, learned.Count);
            Assert.Equal([0, 1], learned.Select(m => m.GetProperty("port").GetInt32()).Order());
        }

        var stats = await TuntapCli.RunAsync("switch", "stats", name);
        Assert.Equal(0, stats.ExitCode);
        Assert.Contains("2 MACs learned", stats.StandardOutput, StringComparison.Ordinal);
        Assert.Matches($@"tap:tt-cb@{b}: rx-frames=[1-9]\d* ", stats.StandardOutput);

        var unblock = await TuntapCli.RunAsync("switch", "port", "unblock", name, "0");
        TuntapCli.AssertUserError(unblock, $"switch {name}: port tap:tt-ca@{a} (id 0) is not blocked");

        var del = await TuntapCli.RunAsync("switch", "port", "del", name, $"tap:tt-cb@{b}");
        Assert.True(del.ExitCode == 0, del.StandardError);
        Assert.Contains($"port 1: tap:tt-cb@{b} removed", del.StandardOutput, StringComparison.Ordinal);
        Assert.NotEqual(0, (await NetnsScope.ExecAsync(b, "ip", "link", "show", "tt-cb")).ExitCode);
        Assert.DoesNotContain("tt-cb", (await TuntapCli.RunAsync("switch", "port", "list", name)).StandardOutput, StringComparison.Ordinal);

        var again = await TuntapCli.RunAsync("switch", "port", "del", name, "1");
        TuntapCli.AssertUserError(again, $"switch {name}: no port '1'");

        sw.Signal(2);
        Assert.Equal(0, await sw.WaitForExitAsync(TimeSpan.FromSeconds(15)));
        Assert.False(File.Exists(socket));
        Assert.Contains($"tap:tt-ca@{a}: removed", sw.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Control_commands_for_a_switch_that_is_not_running_say_how_to_start_it()
    {
        Requires.Root();
        foreach (var args in new[] { new[] { "switch", "port", "list", "tt-nosuch" }, ["switch", "mac", "tt-nosuch"], ["switch", "stats", "tt-nosuch", "--json"], ["switch", "port", "add", "tt-nosuch", "tap:x"] })
        {
            var result = await TuntapCli.RunAsync(args);
            TuntapCli.AssertUserError(result, "no switch named tt-nosuch is running; start it with 'tuntap switch run tt-nosuch ...'");
        }
    }

    [Fact]
    public async Task A_second_switch_with_the_same_name_fails_before_creating_its_ports()
    {
        await using var scope = await NetnsScope.CreateAsync("swd", 2);
        var name = scope.NewName();
        await using var first = TuntapCli.Start("switch", "run", name, "--port", $"tap:tt-d0@{scope.Names[0]}", "--stats-interval", "0");
        await first.WaitForOutputAsync("running with 1 port", Startup);
        var second = await TuntapCli.RunAsync("switch", "run", name, "--port", $"tap:tt-d1@{scope.Names[1]}");
        TuntapCli.AssertUserError(second, $"a switch named {name} is already running");
        Assert.NotEqual(0, (await NetnsScope.ExecAsync(scope.Names[1], "ip", "link", "show", "tt-d1")).ExitCode);
        Assert.Equal(0, (await TuntapCli.RunAsync("switch", "port", "list", name)).ExitCode);
        first.Signal(2);
        Assert.Equal(0, await first.WaitForExitAsync(TimeSpan.FromSeconds(15)));
    }
}
