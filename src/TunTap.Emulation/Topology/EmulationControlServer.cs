using TunTap.Services;

namespace TunTap.Emulation.Topology;

/// <summary>
/// A running emulation's control socket, <c>/run/tuntap/emulate-NAME.sock</c>: a
/// <see cref="ControlSocketServer"/> whose request lines are answered by <see cref="EmulationControlHandler"/>.
/// </summary>
public sealed class EmulationControlServer : IAsyncDisposable
{
    /// <summary>Where control sockets live.</summary>
    public const string RunDirectory = ControlSocketServer.RunDirectory;

    /// <summary>The longest request line, newline included.</summary>
    public const int MaxLineLength = ControlSocketServer.MaxLineLength;

    private readonly ControlSocketServer _server;

    private EmulationControlServer(ControlSocketServer server) => _server = server;

    /// <summary>The socket's path.</summary>
    public string Path => _server.Path;

    /// <summary>The control socket path of the emulation named <paramref name="name"/>.</summary>
    public static string SocketPathFor(string name, string directory = RunDirectory)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!TopologyParser.IsValidName(name, 64, allowDot: true))
        {
            throw new TunTapException($"'{name}' is not a valid emulation name", "use 1-64 letters, digits, '.', '_' or '-'");
        }

        return System.IO.Path.Combine(directory, $"emulate-{name}.sock");
    }

    /// <summary>The names of the emulations with a control socket in <paramref name="directory"/>, sorted.</summary>
    public static IReadOnlyList<string> ListRunning(string directory = RunDirectory) => ControlSocketServer.ListRunning("emulate-", directory);

    /// <summary>True when something answers on <paramref name="path"/>.</summary>
    public static bool IsListening(string path) => UnixSocketListener.IsAnswering(path);

    /// <summary>Listens on <paramref name="path"/> (its directory is created; a stale socket is replaced) and serves <paramref name="handler"/>.</summary>
    /// <exception cref="TunTapException">An emulation of that name is already running, or the socket cannot be created.</exception>
    public static EmulationControlServer Listen(string path, EmulationControlHandler handler, Action<string>? log = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(handler);
        var server = ControlSocketServer.Listen(
            path,
            line => Task.FromResult(handler.Handle(line)),
            () => new TunTapException($"an emulation named {handler.Name} is already running (control socket {path})", "stop it first ('tuntap emulate down'), or pick another name"),
            log);
        return new EmulationControlServer(server);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
