using TunTap.Services;

namespace TunTap.Switching;

/// <summary>
/// A running switch's control socket, by default <c>/run/tuntap/switch-NAME.sock</c>: a
/// <see cref="ControlSocketServer"/> whose request lines (<see cref="SwitchControlRequest"/>) are
/// answered by <see cref="SwitchControlHandler"/>.
/// </summary>
public sealed class SwitchControlServer : IAsyncDisposable
{
    /// <summary>Where control sockets live.</summary>
    public const string RunDirectory = ControlSocketServer.RunDirectory;

    private readonly ControlSocketServer _server;

    private SwitchControlServer(ControlSocketServer server) => _server = server;

    /// <summary>The socket's path.</summary>
    public string Path => _server.Path;

    /// <summary>The control socket path of the switch named <paramref name="switchName"/>.</summary>
    /// <exception cref="TunTapException">The name cannot be part of a file name.</exception>
    public static string SocketPathFor(string switchName, string directory = RunDirectory)
    {
        ValidateName(switchName);
        return System.IO.Path.Combine(directory, $"switch-{switchName}.sock");
    }

    /// <summary>Checks that a switch name is 1-64 letters, digits, '.', '_' or '-' (not starting with '.').</summary>
    /// <exception cref="TunTapException">It is not.</exception>
    public static void ValidateName(string switchName)
    {
        ArgumentNullException.ThrowIfNull(switchName);
        var valid = switchName.Length is > 0 and <= 64 && switchName[0] != '.';
        foreach (var c in switchName)
        {
            valid &= char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-';
        }

        if (!valid)
        {
            throw new TunTapException($"'{switchName}' is not a valid switch name", "use 1-64 letters, digits, '.', '_' or '-'");
        }
    }

    /// <summary>The names of the switches with a control socket in <paramref name="directory"/>, sorted.</summary>
    public static IReadOnlyList<string> ListRunning(string directory = RunDirectory) => ControlSocketServer.ListRunning("switch-", directory);

    /// <summary>Listens on <paramref name="path"/> (its directory is created; a stale socket is replaced) and serves requests with <paramref name="handler"/>.</summary>
    /// <exception cref="TunTapException">A switch of that name is already running there, or the socket cannot be created.</exception>
    public static SwitchControlServer Listen(string path, SwitchControlHandler handler, Action<string>? log = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(handler);
        var server = ControlSocketServer.Listen(
            path,
            handler.HandleAsync,
            () => new TunTapException($"a switch named {handler.SwitchName} is already running (control socket {path})", "stop it first, or pick another name"),
            log);
        return new SwitchControlServer(server);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
