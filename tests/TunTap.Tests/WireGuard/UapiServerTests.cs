using System.Net;
using System.Net.Sockets;
using System.Text;
using CsCheck;
using TunTap.Devices;
using TunTap.TestKit;
using TunTap.WireGuard;
using TunTap.WireGuard.Uapi;

namespace TunTap.Tests.WireGuard;

public sealed class UapiServerTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"tt-uapi-{Guid.NewGuid():N}");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static async Task<string> ExchangeAsync(string path, string request)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
        await socket.SendAsync(Encoding.UTF8.GetBytes(request));
        socket.Shutdown(SocketShutdown.Send);
        var reply = new StringBuilder();
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        int read;
        while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
        {
            reply.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }

        return reply.ToString();
    }

    [Fact]
    public async Task Connection_accepted_while_the_server_stops_is_closed()
    {
        await using var tun = new ChannelTun("wgx", DeviceMode.Tun);
        await using var wg = new WireGuardInterface(tun, new WireGuardInterfaceOptions { BindTransport = port => UdpSocketTransport.Bind(new IPEndPoint(IPAddress.Loopback, port)) });
        await using var server = UapiServer.Listen(wg, _directory);
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!, TestContext.Current.CancellationToken);
        var accepted = await listener.AcceptAsync(TestContext.Current.CancellationToken);

        // The accept loop hands over a connection it accepted just as the server was told to stop.
        using var stopping = new CancellationTokenSource();
        await stopping.CancelAsync();
        await server.StartServing(accepted, stopping.Token);

        // The server closes its end: the client reads the end of the stream, not silence.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Assert.Equal(0, await client.ReceiveAsync(new byte[16], SocketFlags.None, timeout.Token));
    }

    [Fact]
    public async Task Socket_answers_get_and_set_and_is_removed_on_dispose()
    {
        await using var tun = new ChannelTun("wgs", DeviceMode.Tun);
        await using var wg = new WireGuardInterface(tun, new WireGuardInterfaceOptions { BindTransport = port => UdpSocketTransport.Bind(new IPEndPoint(IPAddress.Loopback, port)) });
        await wg.StartAsync();
        var server = UapiServer.Listen(wg, _directory);
        var path = Path.Combine(_directory, "wgs.sock");
        Assert.Equal(path, server.SocketPath);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        var key = WireGuardKey.GeneratePrivateKey();
        Assert.Equal("errno=0\n\n", await ExchangeAsync(path, $"set=1\nprivate_key={key.ToHex()}\n\n"));
        Assert.Equal($"private_key={key.ToHex()}\nlisten_port={wg.ListenPort}\nerrno=0\n\n", await ExchangeAsync(path, "get=1\n\n"));

        // Two requests on one connection, the second failing; garbage operations close the connection.
        Assert.Equal("errno=-22\n\nerrno=-71\n\n", await ExchangeAsync(path, "set=1\nbogus=1\n\nset=1\nnoequals\n\n"));
        Assert.Equal("errno=-22\n\n", await ExchangeAsync(path, "get=1\nx\n"));
        Assert.Equal("", await ExchangeAsync(path, "hello\n\n"));

        await server.DisposeAsync();
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task A_stale_socket_is_replaced_and_a_live_one_is_refused()
    {
        Directory.CreateDirectory(_directory);
        var path = Path.Combine(_directory, "wgs.sock");
        // Bound but not listening: what a crashed daemon leaves behind (connect is refused).
        using var stale = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        stale.Bind(new UnixDomainSocketEndPoint(path));

        Assert.True(File.Exists(path));
        await using var tun = new ChannelTun("wgs", DeviceMode.Tun);
        await using var wg = new WireGuardInterface(tun);
        await using var server = UapiServer.Listen(wg, _directory);
        Assert.Equal("errno=0\n\n", await ExchangeAsync(path, "set=1\n\n"));

        await using var other = new WireGuardInterface(tun);
        var error = Assert.Throws<TunTapException>(() => UapiServer.Listen(other, _directory));
        Assert.Contains("in use", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Garbage_requests_get_only_errno_replies_and_never_throw()
    {
        await using var tun = new ChannelTun("wgs", DeviceMode.Tun);
        await using var wg = new WireGuardInterface(tun, new WireGuardInterfaceOptions { BindTransport = port => UdpSocketTransport.Bind(new IPEndPoint(IPAddress.Loopback, port)) });
        await wg.StartAsync();
        var server = UapiServer.Listen(wg, _directory);
        await using (server)
        {
            string[] pieces = ["set=1\n", "get=1\n", "\n", "private_key=", "listen_port=0\n", "public_key=", "remove=true\n", "allowed_ip=10.0.0.0/8\n", "=", "endpoint=[::1]:1\n", "x"];
            var chunk = Gen.OneOf(Gen.Int[0, pieces.Length - 1].Select(i => pieces[i]), Gen.String[0, 20]);
            chunk.Array[0, 20].Sample(chunks =>
            {
                using var stream = new ScriptedStream(Encoding.UTF8.GetBytes(string.Concat(chunks)));
                server.ServeAsync(stream, CancellationToken.None).GetAwaiter().GetResult();
                var reply = Encoding.UTF8.GetString(stream.Output.ToArray());
                foreach (var block in reply.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
                {
                    Assert.Matches(@"(^|\n)errno=(0|-22|-71|-98|-55)$", block);
                }
            }, iter: 2_000);
        }
    }
}
