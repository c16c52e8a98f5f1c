using System.Text.Json;
using TunTap.TestKit;

namespace TunTap.IntegrationTests.Cli;

public sealed class DeviceCommandTests
{
    [Fact]
    public async Task Persistent_tap_with_every_option_shows_its_flags_in_ip_and_in_json()
    {
        await using var scope = await NetnsScope.CreateAsync("devcli");
        var ns = scope.Names[0];
        var add = await TuntapCli.RunAsync("device", "add", "tt-opt0", "--mode", "tap", "--persist", "--owner", "54321", "--group", "54322",
            "--multi-queue", "--queues", "3", "--vnet-hdr", "--mtu", "1400", "--address", "10.5.0.1/24", "--address", "fd05::1/64", "--up", "--netns", ns);
        add.EnsureSuccess();

        var ip = (await NetnsScope.ExecAsync(ns, "ip", "-d", "link", "show", "tt-opt0")).EnsureSuccess().StandardOutput;
        Assert.Contains("mtu 1400", ip, StringComparison.Ordinal);
        Assert.Contains("tun type tap", ip, StringComparison.Ordinal);
        Assert.Contains("pi off", ip, StringComparison.Ordinal);
        Assert.Contains("vnet_hdr on", ip, StringComparison.Ordinal);
        Assert.Contains("persist on", ip, StringComparison.Ordinal);
        Assert.Contains("user 54321", ip, StringComparison.Ordinal);
        Assert.Contains("group 54322", ip, StringComparison.Ordinal);
        Assert.Contains("multi_queue", ip, StringComparison.Ordinal);

        var list = await TuntapCli.RunAsync("device", "list", "--json", "--netns", ns);
        list.EnsureSuccess();
        using var doc = JsonDocument.Parse(list.StandardOutput);
        var device = Assert.Single(doc.RootElement.EnumerateArray());
        Assert.Equal("tt-opt0", device.GetProperty("name").GetString());
        Assert.Equal("tap", device.GetProperty("mode").GetString());
        Assert.Equal(1400, device.GetProperty("mtu").GetInt32());
        Assert.Equal(54321, device.GetProperty("owner").GetInt32());
        Assert.Equal(54322, device.GetProperty("group").GetInt32());
        Assert.True(device.GetProperty("persist").GetBoolean());
        Assert.True(device.GetProperty("multi_queue").GetBoolean());
        Assert.True(device.GetProperty("vnet_hdr").GetBoolean());
        Assert.False(device.GetProperty("pi").GetBoolean());
        Assert.True(device.GetProperty("up").GetBoolean());
        var addresses = device.GetProperty("addresses").EnumerateArray().Select(a => a.GetString()).ToList();
        Assert.Contains("10.5.0.1/24", addresses);
        Assert.Contains("fd05::1/64", addresses);

        var show = await TuntapCli.RunAsync("device", "show", "tt-opt0", "--netns", ns);
        show.EnsureSuccess();
        Assert.Contains("persist    yes", show.StandardOutput, StringComparison.Ordinal);

        (await TuntapCli.RunAsync("device", "del", "tt-opt0", "--netns", ns)).EnsureSuccess();
        var gone = await NetnsScope.ExecAsync(ns, "ip", "link", "show", "tt-opt0");
        Assert.NotEqual(0, gone.ExitCode);
    }

    [Fact]
    public async Task Plain_tun_has_no_owner_and_default_flags()
    {
        await using var scope = await NetnsScope.CreateAsync("devcli");
        var ns = scope.Names[0];
        (await TuntapCli.RunAsync("device", "add", "tt-plain0", "--mode", "tun", "--persist", "--netns", ns)).EnsureSuccess();
        var ip = (await NetnsScope.ExecAsync(ns, "ip", "-d", "link", "show", "tt-plain0")).EnsureSuccess().StandardOutput;
        Assert.Contains("tun type tun pi off vnet_hdr off persist on", ip, StringComparison.Ordinal);
        Assert.DoesNotContain("multi_queue", ip, StringComparison.Ordinal);
        Assert.Contains("state DOWN", ip, StringComparison.Ordinal);

        var list = await TuntapCli.RunAsync("device", "list", "--json", "--netns", ns);
        using var doc = JsonDocument.Parse(list.EnsureSuccess().StandardOutput);
        var device = Assert.Single(doc.RootElement.EnumerateArray());
        Assert.Equal("tun", device.GetProperty("mode").GetString());
        Assert.Equal(JsonValueKind.Null, device.GetProperty("owner").ValueKind);
        Assert.Equal(JsonValueKind.Null, device.GetProperty("group").ValueKind);
        Assert.False(device.GetProperty("vnet_hdr").GetBoolean());
        Assert.False(device.GetProperty("multi_queue").GetBoolean());
        Assert.Equal("down", device.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Kernel_chooses_the_number_in_a_name_pattern()
    {
        await using var scope = await NetnsScope.CreateAsync("devcli");
        var ns = scope.Names[0];
        var add = (await TuntapCli.RunAsync("device", "add", "ttq%d", "--mode", "tun", "--persist", "--netns", ns)).EnsureSuccess();
        Assert.Contains("ttq0:", add.StandardOutput, StringComparison.Ordinal);
        (await NetnsScope.ExecAsync(ns, "ip", "link", "show", "ttq0")).EnsureSuccess();
    }

    [Fact]
    public async Task Without_persist_the_device_lives_while_the_command_runs()
    {
        await using var scope = await NetnsScope.CreateAsync("devcli");
        var ns = scope.Names[0];
        await using var held = TuntapCli.Start("device", "add", "tt-held0", "--mode", "tun", "--netns", ns);
        await held.WaitForOutputAsync("holding it open", TimeSpan.FromSeconds(30));
        (await NetnsScope.ExecAsync(ns, "ip", "link", "show", "tt-held0")).EnsureSuccess();
        held.Signal(2);
        Assert.Equal(0, await held.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        Assert.NotEqual(0, (await NetnsScope.ExecAsync(ns, "ip", "link", "show", "tt-held0")).ExitCode);
    }

    [Fact]
    public async Task User_mistakes_are_one_clear_line_and_a_nonzero_exit()
    {
        await using var scope = await NetnsScope.CreateAsync("devcli");
        var ns = scope.Names[0];

        TuntapCli.AssertUserError(await TuntapCli.RunAsync("device", "add", "a-name-far-too-long", "--mode", "tun", "--netns", ns), "too long");
        TuntapCli.AssertUserError(await TuntapCli.RunAsync("device", "add", "tt-x0", "--mode", "tun", "--netns", "tt-no-such-ns-here"), "network namespace 'tt-no-such-ns-here' does not exist");
        TuntapCli.AssertUserError(await TuntapCli.RunAsync("device", "show", "tt-missing0", "--netns", ns), "tt-missing0");

        var badCidr = await TuntapCli.RunAsync("device", "add", "tt-x0", "--mode", "tun", "--address", "10.1.2.300/24", "--netns", ns);
        Assert.NotEqual(0, badCidr.ExitCode);
        Assert.Contains("not an address in CIDR notation", badCidr.StandardError + badCidr.StandardOutput, StringComparison.Ordinal);

        var badMode = await TuntapCli.RunAsync("device", "add", "tt-x0", "--mode", "tan", "--netns", ns);
        Assert.NotEqual(0, badMode.ExitCode);
        Assert.Contains("allowed: tun, tap", badMode.StandardError + badMode.StandardOutput, StringComparison.Ordinal);

        // A name taken by another kind of interface.
        (await NetnsScope.ExecAsync(ns, "ip", "link", "add", "tt-veth0", "type", "veth", "peer", "name", "tt-veth1")).EnsureSuccess();
        TuntapCli.AssertUserError(await TuntapCli.RunAsync("device", "add", "tt-veth0", "--mode", "tun", "--netns", ns), "tt-veth0");
        TuntapCli.AssertUserError(await TuntapCli.RunAsync("device", "del", "tt-veth0", "--netns", ns), "not a TUN/TAP device");

        // A tun name taken by a tap.
        (await TuntapCli.RunAsync("device", "add", "tt-tap9", "--mode", "tap", "--persist", "--netns", ns)).EnsureSuccess();
        TuntapCli.AssertUserError(await TuntapCli.RunAsync("device", "add", "tt-tap9", "--mode", "tun", "--persist", "--netns", ns), "tt-tap9");
    }

    [Fact]
    public async Task Without_cap_net_admin_the_error_says_how_to_fix_it()
    {
        await using var scope = await NetnsScope.CreateAsync("devcli");
        Requires.Tool("setpriv");
        var result = await TuntapCli.RunAsUserAsync(65534, "device", "add", "tt-np0", "--mode", "tun");
        TuntapCli.AssertUserError(result, "CAP_NET_ADMIN");
    }

    [Fact]
    public async Task Missing_dev_net_tun_says_how_to_load_the_module()
    {
        Requires.Root();
        Requires.Tool("unshare");
        await using var scope = await NetnsScope.CreateAsync("devcli");

        // A private mount namespace hides /dev/net/tun under an empty tmpfs for this one command only.
        var result = await ProcessRunner.RunAsync("unshare", ["--mount", "--propagation", "private", "sh", "-c",
            "mount -t tmpfs none /dev/net && exec \"$0\" \"$@\"", TuntapCli.DotnetHost, TuntapCli.Dll, "device", "add", "tt-nodev0", "--mode", "tun", "--netns", scope.Names[0]],
            TimeSpan.FromSeconds(60));

        TuntapCli.AssertUserError(result, "/dev/net/tun");
        Assert.Contains("modprobe tun", result.StandardError, StringComparison.Ordinal);
    }
}
