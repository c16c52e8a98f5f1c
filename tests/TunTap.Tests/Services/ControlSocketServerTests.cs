using System.Runtime.Versioning;
using TunTap.Services;

namespace TunTap.Tests.Services;

[UnsupportedOSPlatform("windows")]
public sealed class ControlSocketServerTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("tt-css-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task A_request_that_stops_the_server_still_gets_its_answer()
    {
        var path = Path.Combine(_directory, "stop.sock");
        ControlSocketServer? server = null;
        Task? stopping = null;
        server = ControlSocketServer.Listen(
            path,
            line =>
            {
                // What 'stop' does: the owner tears the server down while this answer is on its way
                // (started here, so the server is already stopping when the answer is sent).
                stopping = server!.DisposeAsync().AsTask();
                return Task.FromResult(ControlSocketServer.Success(w => w.WriteString("said", line)));
            },
            () => new TunTapException("in use"));

        using var answer = await ControlSocketClient.RequestAsync("test", path, "stop", () => new TunTapException("not running"), TestContext.Current.CancellationToken);
        Assert.Equal("stop", answer.RootElement.GetProperty("said").GetString());
        await stopping!.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task A_probe_that_sends_nothing_is_not_answered_or_logged_and_requests_go_on()
    {
        var path = Path.Combine(_directory, "probe.sock");
        var log = new List<string>();
        await using var server = ControlSocketServer.Listen(
            path,
            line => Task.FromResult(line.Length == 0 ? ControlSocketServer.Failure("empty request", null) : ControlSocketServer.Success(_ => { })),
            () => new TunTapException("in use"),
            line =>
            {
                lock (log)
                {
                    log.Add(line);
                }
            });

        for (var i = 0; i < 3; i++)
        {
            Assert.True(UnixSocketListener.IsAnswering(path));
        }

        using (await ControlSocketClient.RequestAsync("test", path, "status", () => new TunTapException("not running"), TestContext.Current.CancellationToken))
        {
        }

        var empty = await Assert.ThrowsAsync<TunTapException>(() => ControlSocketClient.RequestAsync("test", path, "", () => new TunTapException("not running"), TestContext.Current.CancellationToken));
        Assert.Equal("test: empty request", empty.Message);
        lock (log)
        {
            Assert.Empty(log);
        }
    }
}
