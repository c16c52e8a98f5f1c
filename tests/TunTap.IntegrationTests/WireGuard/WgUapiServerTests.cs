using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using TunTap.IntegrationTests.Cli;
using TunTap.TestKit;
using TunTap.WireGuard.Uapi;

namespace TunTap.IntegrationTests.WireGuard;

/// <summary>
/// The lifetime edges of <c>tuntap wg</c>'s UAPI socket and process: silent clients neither block
/// <c>wg</c> nor stay connected forever, and the detached daemon exits when its device is deleted.
/// </summary>
public sealed partial class WgUapiServerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Silent_uapi_clients_do_not_block_wg_and_are_disconnected_when_idle()
    {
        Requires.Root();
        Requires.Tool("wg");
        await using var scope = await NetnsScope.CreateAsync("wgua", 1);
        var ns = scope.Names[0];
        var name = scope.NewName();
        var path = UapiServer.GetSocketPath(name);
        try
        {
            await using var process = ProcessRunner.StartBackground("ip", ["netns", "exec", ns, TuntapCli.DotnetHost, TuntapCli.Dll, "wg", "-f", name]);
            await Wait.UntilAsync(async () => (await NetnsScope.ExecAsync(ns, "wg", "show", name)).ExitCode == 0, Patience, process.Describe);

            // One client says nothing; another starts a request and stops halfway.
            var clock = Stopwatch.StartNew();
            using var silent = Connect(path);
            using var halfway = Connect(path);
            await halfway.SendAsync(Encoding.ASCII.GetBytes("set=1\nlisten-port=51999\n"), SocketFlags.None, TestContext.Current.CancellationToken);

            // Meanwhile wg gets answers.
            for (var i = 0; i < 3; i++)
            {
                var show = (await NetnsScope.ExecAsync(ns, "wg", "show", name)).EnsureSuccess().StandardOutput;
                Assert.Contains($"interface: {name}", show, StringComparison.Ordinal);
            }

            // Both are closed by the server once idle (end of stream, no reply to the half request).
            foreach (var client in new[] { silent, halfway })
            {
                using var timeout = new CancellationTokenSource(UapiServer.DefaultIdleTimeout + Patience);
                var received = await client.ReceiveAsync(new byte[256], SocketFlags.None, timeout.Token);
                Assert.Equal(0, received);
            }

            Assert.True(clock.Elapsed >= UapiServer.DefaultIdleTimeout - TimeSpan.FromSeconds(1), $"closed after {clock.Elapsed}, before the idle timeout");
            Assert.DoesNotContain("listening port: 51999", (await NetnsScope.ExecAsync(ns, "wg", "show", name)).EnsureSuccess().StandardOutput, StringComparison.Ordinal);
            Assert.False(process.HasExited, process.Describe());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Detached_tuntap_wg_exits_when_its_device_is_deleted()
    {
        Requires.Root();
        Requires.Tool("wg");
        await using var scope = await NetnsScope.CreateAsync("wgdl", 1);
        var ns = scope.Names[0];
        var name = scope.NewName();
        var path = UapiServer.GetSocketPath(name);
        try
        {
            var start = await ProcessRunner.RunAsync("ip", ["netns", "exec", ns, TuntapCli.DotnetHost, TuntapCli.Dll, "wg", name], TimeSpan.FromSeconds(60));
            Assert.True(start.ExitCode == 0, start.StandardOutput + start.StandardError);
            var pid = int.Parse(PidPattern().Match(start.StandardError).Groups[1].Value, CultureInfo.InvariantCulture);
            Assert.True(IsRunning(pid), $"pid {pid} is not running");

            (await NetnsScope.ExecAsync(ns, "ip", "link", "del", name)).EnsureSuccess();

            await Wait.UntilAsync(() => !IsRunning(pid), Patience, () => $"tuntap wg (pid {pid}) still runs after its device was deleted");
            await Wait.UntilAsync(() => !File.Exists(path), Patience, () => $"{path} was not removed");
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static Socket Connect(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(path));
        return socket;
    }

    // Alive and not a zombie (the detached daemon is not our child, but be exact anyway).
    private static bool IsRunning(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"pid (\d+)")]
    private static partial Regex PidPattern();
}
