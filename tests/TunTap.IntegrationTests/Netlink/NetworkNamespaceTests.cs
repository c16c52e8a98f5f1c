using TunTap.Netlink;
using TunTap.TestKit;

namespace TunTap.IntegrationTests.Netlink;

public sealed class NetworkNamespaceTests
{
    private static string CurrentNamespace() => new FileInfo("/proc/thread-self/ns/net").LinkTarget!;

    private static async Task<List<string>> IpNetnsListAsync()
    {
        var output = (await ProcessRunner.RunAsync("ip", ["netns", "list"])).EnsureSuccess().StandardOutput;
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(' ')[0]).ToList();
    }

    [Fact]
    public async Task Created_namespace_is_listed_by_ip_and_usable_by_ip_netns_exec()
    {
        await using var scope = await NetnsScope.CreateAsync("ns-create", 0);
        var name = scope.NewName();
        scope.Adopt(name);

        NetworkNamespace.Create(name);

        Assert.True(NetworkNamespace.Exists(name));
        Assert.Contains(name, NetworkNamespace.List());
        Assert.Contains(name, await IpNetnsListAsync());
        Assert.Equal($"{NetworkNamespace.Directory}/{name}", NetworkNamespace.PathOf(name));
        var links = await IpJson.LinkNamesAsync(name);
        Assert.Equal(["lo"], links);
        var exec = (await NetnsScope.ExecAsync(name, "readlink", "/proc/self/ns/net")).EnsureSuccess();
        Assert.NotEqual(CurrentNamespace(), exec.StandardOutput.Trim());
    }

    [Fact]
    public async Task Run_executes_inside_the_namespace_and_leaves_the_caller_where_it_was()
    {
        await using var scope = await NetnsScope.CreateAsync("ns-run", 0);
        var name = scope.NewName();
        scope.Adopt(name);
        NetworkNamespace.Create(name);
        var before = CurrentNamespace();

        var inside = NetworkNamespace.Run(name, () =>
        {
            using var client = RtNetlinkClient.Open();
            client.CreateVethPair("run0", "run1");
            return CurrentNamespace();
        });

        Assert.Equal(before, CurrentNamespace());
        Assert.NotEqual(before, inside);
        var exec = (await NetnsScope.ExecAsync(name, "readlink", "/proc/self/ns/net")).EnsureSuccess();
        Assert.Equal(exec.StandardOutput.Trim(), inside);
        var names = await IpJson.LinkNamesAsync(name);
        Assert.Contains("run0", names);
        Assert.Contains("run1", names);
    }

    [Fact]
    public async Task Namespaces_made_by_ip_netns_add_are_usable_by_Run()
    {
        await using var scope = await NetnsScope.CreateAsync("ns-ipadd");
        var name = scope.Names[0];

        Assert.True(NetworkNamespace.Exists(name));
        Assert.Contains(name, NetworkNamespace.List());
        var links = NetworkNamespace.Run(name, () =>
        {
            using var client = RtNetlinkClient.Open();
            return client.GetLinks();
        });

        var lo = Assert.Single(links);
        Assert.Equal("lo", lo.Name);
        Assert.True(lo.IsUp);
    }

    [Fact]
    public async Task Delete_removes_the_namespace_and_its_devices()
    {
        await using var scope = await NetnsScope.CreateAsync("ns-delete", 0);
        var name = scope.NewName();
        scope.Adopt(name);
        NetworkNamespace.Create(name);
        NetworkNamespace.Run(name, () =>
        {
            using var client = RtNetlinkClient.Open();
            client.CreateVethPair("del0", "del1");
        });

        NetworkNamespace.Delete(name);

        Assert.False(NetworkNamespace.Exists(name));
        Assert.DoesNotContain(name, NetworkNamespace.List());
        Assert.DoesNotContain(name, await IpNetnsListAsync());
        Assert.NotEqual(0, (await ProcessRunner.RunAsync("ip", ["-n", name, "link"])).ExitCode);
    }

    [Fact]
    public async Task Unknown_taken_and_invalid_names_are_user_errors()
    {
        await using var scope = await NetnsScope.CreateAsync("ns-errors");
        var unknown = scope.NewName();

        var run = Assert.Throws<TunTapException>(() => NetworkNamespace.Run(unknown, () => 0));
        Assert.Equal($"network namespace '{unknown}' does not exist", run.Message);
        Assert.Contains("ip netns", run.Hint, StringComparison.Ordinal);
        Assert.Contains("does not exist", Assert.Throws<TunTapException>(() => NetworkNamespace.Delete(unknown)).Message, StringComparison.Ordinal);
        Assert.False(NetworkNamespace.Exists(unknown));

        var taken = Assert.Throws<TunTapException>(() => NetworkNamespace.Create(scope.Names[0]));
        Assert.Contains("already exists", taken.Message, StringComparison.Ordinal);

        Assert.Contains("not a valid network namespace name", Assert.Throws<TunTapException>(() => NetworkNamespace.Create("a/b")).Message, StringComparison.Ordinal);
        Assert.Throws<TunTapException>(() => NetworkNamespace.Run("..", () => 0));
    }

    [Fact]
    public async Task Run_rethrows_the_actions_exception_on_the_caller()
    {
        await using var scope = await NetnsScope.CreateAsync("ns-throw");

        var error = Assert.Throws<InvalidOperationException>(() => NetworkNamespace.Run(scope.Names[0], () => throw new InvalidOperationException("from inside")));

        Assert.Equal("from inside", error.Message);
    }
}
