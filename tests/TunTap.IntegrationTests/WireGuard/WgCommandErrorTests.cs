using TunTap.IntegrationTests.Cli;
using TunTap.TestKit;

namespace TunTap.IntegrationTests.WireGuard;

/// <summary><c>tuntap wg IFNAME</c> mistakes give one clear error line, never a stack trace.</summary>
public sealed class WgCommandErrorTests
{
    [Fact]
    public async Task Wg_without_a_name_or_with_a_bad_name_is_a_user_error()
    {
        TuntapCli.AssertUserError(await TuntapCli.RunAsync("wg", "-f"), "name the interface to create");
        TuntapCli.AssertUserError(await TuntapCli.RunAsync("wg", "-f", "a-name-longer-than-15"), "is not a valid interface name");
    }

    [Fact]
    public async Task A_second_tuntap_wg_on_the_same_name_is_refused_and_leaves_the_first_running()
    {
        Requires.Root();
        Requires.Tool("wg");
        await using var scope = await NetnsScope.CreateAsync("wge", 2);
        var name = scope.NewName();
        var socket = $"/var/run/wireguard/{name}.sock";
        try
        {
            await using var first = ProcessRunner.StartBackground("ip", ["netns", "exec", scope.Names[0], TuntapCli.DotnetHost, TuntapCli.Dll, "wg", "-f", name]);
            await Wait.UntilAsync(async () => (await NetnsScope.ExecAsync(scope.Names[0], "wg", "show", name)).ExitCode == 0, TimeSpan.FromSeconds(20), first.Describe);

            // Same name in another namespace: the device could be created there, but the socket is taken.
            var second = await ProcessRunner.RunAsync("ip", ["netns", "exec", scope.Names[1], TuntapCli.DotnetHost, TuntapCli.Dll, "wg", "-f", name], TimeSpan.FromSeconds(60));
            TuntapCli.AssertUserError(second, "is in use by another process");
            Assert.False(first.HasExited, first.Describe());
            Assert.Equal(0, (await NetnsScope.ExecAsync(scope.Names[0], "wg", "show", name)).ExitCode);
            Assert.NotEqual(0, (await NetnsScope.ExecAsync(scope.Names[1], "ip", "link", "show", name)).ExitCode);
        }
        finally
        {
            File.Delete(socket);
        }
    }
}
