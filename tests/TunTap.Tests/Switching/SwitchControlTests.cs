using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using TunTap.Devices;
using TunTap.Switching;
using TunTap.TestKit;
using TunTap.Wire;
using static TunTap.Tests.Switching.SwitchFrames;

namespace TunTap.Tests.Switching;

public sealed class SwitchControlTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly string _directory = Directory.CreateTempSubdirectory("tt-swctl-").FullName;
    private readonly Dictionary<string, ChannelTun> _devices = new(StringComparer.Ordinal);
    private readonly SwitchRunner _runner = new(new LearningSwitch());
    private SwitchControlHandler _handler = null!;

    public ValueTask InitializeAsync()
    {
        // "tap:NAME" opens an in-memory TAP device, so the handler is tested without root.
        _handler = new SwitchControlHandler("sw", _runner, spec =>
        {
            if (spec.InterfaceName == "fail")
            {
                throw new TunTapException("cannot create TAP 'fail'", "a hint");
            }

            var device = new ChannelTun(spec.InterfaceName!, DeviceMode.Tap);
            _devices[device.Name] = device;
            return new TapPort(device);
        });
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _runner.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Ports_added_over_control_forward_list_and_are_removed_by_id_or_name()
    {
        using var added = Parse(await _handler.HandleAsync("port add tap:a,vlan=10"));
        Assert.Equal(0, added.RootElement.GetProperty("port").GetProperty("id").GetInt32());
        Assert.Equal("tap:a", added.RootElement.GetProperty("port").GetProperty("name").GetString());
        Assert.Equal("access:10", added.RootElement.GetProperty("port").GetProperty("vlan").GetString());
        using (Parse(await _handler.HandleAsync("port add tap:b,vlan=10")))
        {
        }

        var frame = Frame(MacAddress.Broadcast, Mac(1));
        _devices["a"].Inject(frame);
        Assert.Equal(frame, await _devices["b"].ReadWrittenAsync(Timeout));

        using var list = Parse(await _handler.HandleAsync("port list"));
        Assert.Equal(["tap:a", "tap:b"], list.RootElement.GetProperty("ports").EnumerateArray().Select(p => p.GetProperty("name").GetString()));
        Assert.Equal(JsonValueKind.Null, list.RootElement.GetProperty("ports")[0].GetProperty("blocked").ValueKind);

        using var macs = Parse(await _handler.HandleAsync("mac"));
        var mac = Assert.Single(macs.RootElement.GetProperty("macs").EnumerateArray());
        Assert.Equal(Mac(1).ToString(), mac.GetProperty("mac").GetString());
        Assert.Equal(10, mac.GetProperty("vlan").GetInt32());
        Assert.Equal("tap:a", mac.GetProperty("port_name").GetString());

        await Wait.UntilAsync(() => _runner.Switch.GetCounters(1).SentFrames == 1, Timeout);
        using var stats = Parse(await _handler.HandleAsync("stats"));
        var counters = stats.RootElement.GetProperty("ports")[0].GetProperty("counters");
        Assert.Equal(1, counters.GetProperty("rx-frames").GetInt64());
        Assert.Equal(1, counters.GetProperty("flooded").GetInt64());
        Assert.Equal(1, stats.RootElement.GetProperty("ports")[1].GetProperty("counters").GetProperty("tx-frames").GetInt64());

        using var byName = Parse(await _handler.HandleAsync("port del tap:a"));
        Assert.Equal(0, byName.RootElement.GetProperty("removed").GetProperty("id").GetInt32());
        using var byId = Parse(await _handler.HandleAsync("port del 1"));
        Assert.Equal("tap:b", byId.RootElement.GetProperty("removed").GetProperty("name").GetString());
        Assert.Empty(_runner.ListPorts());
    }

    [Fact]
    public async Task A_blocked_port_is_unblocked_over_control_by_id_or_name_and_forwards_again()
    {
        using (Parse(await _handler.HandleAsync("port add tap:a")))
        using (Parse(await _handler.HandleAsync("port add tap:b")))
        {
        }

        using var notBlocked = JsonDocument.Parse(await _handler.HandleAsync("port unblock tap:a"));
        Assert.False(notBlocked.RootElement.GetProperty("ok").GetBoolean());
        Assert.Contains("is not blocked", notBlocked.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        using var unknown = JsonDocument.Parse(await _handler.HandleAsync("port unblock 7"));
        Assert.Contains("no port '7'", unknown.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);

        _runner.Switch.Block(0, "MAC flapping (test)");
        using var blocked = Parse(await _handler.HandleAsync("port list"));
        Assert.Equal("MAC flapping (test)", blocked.RootElement.GetProperty("ports")[0].GetProperty("blocked").GetString());
        var frame = Frame(MacAddress.Broadcast, Mac(1));
        _devices["a"].Inject(frame);
        await Wait.UntilAsync(() => _runner.Switch.GetCounters(0).GetDropped(SwitchDropReason.Blocked) == 1, Timeout);

        using var unblocked = Parse(await _handler.HandleAsync("port unblock 0"));
        Assert.Equal("tap:a", unblocked.RootElement.GetProperty("unblocked").GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, unblocked.RootElement.GetProperty("unblocked").GetProperty("blocked").ValueKind);
        Assert.False(_runner.Switch.IsBlocked(0));
        _devices["a"].Inject(frame);
        Assert.Equal(frame, await _devices["b"].ReadWrittenAsync(Timeout));

        _runner.Switch.Block(1, "broadcast storm (test)");
        using (Parse(await _handler.HandleAsync("port unblock tap:b")))
        {
        }

        Assert.False(_runner.Switch.IsBlocked(1));
    }

    [Theory]
    [InlineData("hello", "unknown request 'hello'")]
    [InlineData("port add eth0", "is not a port spec")]
    [InlineData("port add tap:fail", "cannot create TAP 'fail'")]
    [InlineData("port del 7", "no port '7'")]
    [InlineData("port del nothing", "no port 'nothing'")]
    public async Task Bad_requests_and_failing_ports_are_error_answers(string line, string expected)
    {
        using var answer = JsonDocument.Parse(await _handler.HandleAsync(line));
        Assert.False(answer.RootElement.GetProperty("ok").GetBoolean());
        Assert.Contains(expected, answer.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Empty(_runner.ListPorts());
    }

    [Fact]
    public async Task Control_socket_is_private_answers_clients_and_is_removed_on_dispose()
    {
        var path = SwitchControlServer.SocketPathFor("sw", _directory);
        Assert.EndsWith("/switch-sw.sock", path, StringComparison.Ordinal);
        await using (var server = SwitchControlServer.Listen(path, _handler))
        {
            Assert.False(OperatingSystem.IsWindows());
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            }

            Assert.Equal(["sw"], SwitchControlServer.ListRunning(_directory));
            using (var added = await SwitchControlClient.RequestAsync("sw", new SwitchControlRequest(SwitchControlCommand.PortAdd, "tap:c"), path, TestContext.Current.CancellationToken))
            {
                Assert.Equal("tap:c", added.RootElement.GetProperty("port").GetProperty("name").GetString());
            }

            var error = await Assert.ThrowsAsync<TunTapException>(() => SwitchControlClient.RequestAsync("sw", new SwitchControlRequest(SwitchControlCommand.PortDel, "9"), path, TestContext.Current.CancellationToken));
            Assert.Contains("switch sw: no port '9'", error.Message, StringComparison.Ordinal);

            // Raw garbage: an error line, and the server keeps serving.
            Assert.Contains("\"ok\":false", await RawAsync(path, "\u0001\u0002garbage\n"), StringComparison.Ordinal);
            Assert.Contains("longer than", await RawAsync(path, new string('x', 5000)), StringComparison.Ordinal);
            Assert.Contains("\"ok\":true", await RawAsync(path, "port list"), StringComparison.Ordinal);
            Assert.Contains("\"name\":\"tap:c\"", await RawAsync(path, "port list\nstats\n"), StringComparison.Ordinal);

            var twice = Assert.Throws<TunTapException>(() => SwitchControlServer.Listen(path, _handler));
            Assert.Contains("a switch named sw is already running", twice.Message, StringComparison.Ordinal);
        }

        Assert.False(File.Exists(path));
        var missing = await Assert.ThrowsAsync<TunTapException>(() => SwitchControlClient.RequestAsync("sw", new SwitchControlRequest(SwitchControlCommand.Stats), path, TestContext.Current.CancellationToken));
        Assert.Equal("no switch named sw is running; start it with 'tuntap switch run sw ...'", missing.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("../x")]
    [InlineData("a b")]
    [InlineData(".hidden")]
    public void Switch_names_that_cannot_be_file_names_are_refused(string name) =>
        Assert.Throws<TunTapException>(() => SwitchControlServer.SocketPathFor(name));

    private static JsonDocument Parse(string answer)
    {
        var document = JsonDocument.Parse(answer);
        Assert.True(document.RootElement.GetProperty("ok").GetBoolean(), answer);
        return document;
    }

    private static async Task<string> RawAsync(string path, string request)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        using var cts = new CancellationTokenSource(Timeout);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cts.Token);
        await socket.SendAsync(Encoding.UTF8.GetBytes(request), SocketFlags.None, cts.Token);
        socket.Shutdown(SocketShutdown.Send); // ends a request without a newline, too
        var buffer = new byte[65536];
        var length = 0;
        while (true)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, cts.Token);
            if (n == 0)
            {
                return Encoding.UTF8.GetString(buffer, 0, length);
            }

            length += n;
        }
    }
}
