using System.Net.Sockets;
using System.Text;
using TunTap.Services;

namespace TunTap.Switching;

/// <summary>
/// A running switch's control socket: a Unix stream socket, by default
/// <c>/run/tuntap/switch-NAME.sock</c> (mode 0600, removed on dispose). Each connection carries
/// one request line (<see cref="SwitchControlRequest"/>, at most
/// <see cref="SwitchControlRequest.MaxLineLength"/> bytes, ended by '\n' or by the client
/// shutting down its side) and gets one line of JSON from <see cref="SwitchControlHandler"/>;
/// then the server closes it. Connections are served one at a time, each within a few seconds.
/// </summary>
public sealed class SwitchControlServer : IAsyncDisposable
{
    /// <summary>Where control sockets live.</summary>
    public const string RunDirectory = "/run/tuntap";

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);
    private readonly Socket _listener;
    private readonly SwitchControlHandler _handler;
    private readonly Action<string>? _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;
    private int _disposed;

    private SwitchControlServer(Socket listener, string path, SwitchControlHandler handler, Action<string>? log)
    {
        _listener = listener;
        Path = path;
        _handler = handler;
        _log = log;
        _serving = Task.Run(ServeConnectionsAsync);
    }

    /// <summary>The socket's path.</summary>
    public string Path { get; }

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
    public static IReadOnlyList<string> ListRunning(string directory = RunDirectory)
    {
        var names = new List<string>();
        if (Directory.Exists(directory))
        {
            foreach (var file in Directory.EnumerateFiles(directory, "switch-*.sock"))
            {
                var name = System.IO.Path.GetFileName(file);
                names.Add(name["switch-".Length..^".sock".Length]);
            }
        }

        names.Sort(StringComparer.Ordinal);
        return names;
    }

    /// <summary>Listens on <paramref name="path"/> (its directory is created; a stale socket is replaced) and serves requests with <paramref name="handler"/>.</summary>
    /// <exception cref="TunTapException">A switch of that name is already running there, or the socket cannot be created.</exception>
    public static SwitchControlServer Listen(string path, SwitchControlHandler handler, Action<string>? log = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(handler);
        var directory = System.IO.Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(directory) && !OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }

        if (File.Exists(path))
        {
            using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(path));
                throw new TunTapException($"a switch named {handler.SwitchName} is already running (control socket {path})", "stop it first, or pick another name");
            }
            catch (SocketException)
            {
                // Nobody listens: left over from a switch that was killed.
                File.Delete(path);
            }
        }

        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            listener.Listen(8);
        }
        catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException)
        {
            listener.Dispose();
            throw new TunTapException($"cannot create the control socket {path}: {e.Message}", "run as root (the switch needs it anyway), and check that the directory is writable", e);
        }

        return new SwitchControlServer(listener, path, handler, log);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        try
        {
            await _serving.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // Stopped.
        }

        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
            // Gone already or not ours to remove.
        }

        _stop.Dispose();
    }

    private async Task ServeConnectionsAsync()
    {
        var token = _stop.Token;
        var buffer = new byte[SwitchControlRequest.MaxLineLength];
        while (!token.IsCancellationRequested)
        {
            Socket accepted;
            try
            {
                accepted = await _listener.AcceptAsync(token).ConfigureAwait(false);
            }
            catch (SocketException) when (!token.IsCancellationRequested)
            {
                // Transient (e.g. out of descriptors): the switch keeps running, so must its socket.
                if (!await AcceptBackoff.WaitAsync(token).ConfigureAwait(false))
                {
                    return;
                }

                continue;
            }

            using var connection = accepted;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
            timeout.CancelAfter(RequestTimeout);
            try
            {
                var line = await ReadLineAsync(connection, buffer, timeout.Token).ConfigureAwait(false);
                var response = line is null
                    ? $"{{\"ok\":false,\"error\":\"request longer than {SwitchControlRequest.MaxLineLength - 1} bytes or not ended by a newline\",\"hint\":null}}"
                    : await _handler.HandleAsync(line).ConfigureAwait(false);
                await connection.SendAsync(Encoding.UTF8.GetBytes(response + "\n"), SocketFlags.None, timeout.Token).ConfigureAwait(false);

                // Closing with unread input would reset the connection before the client reads the
                // answer: say we are done, then read (a bounded amount of) whatever else it sent.
                connection.Shutdown(SocketShutdown.Send);
                for (var drained = 0; drained < 16 * SwitchControlRequest.MaxLineLength;)
                {
                    var n = await connection.ReceiveAsync(buffer, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                    if (n == 0)
                    {
                        break;
                    }

                    drained += n;
                }
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException && !token.IsCancellationRequested)
            {
                _log?.Invoke($"control socket: a client went away or was too slow: {e.Message}");
            }
#pragma warning disable CA1031 // One failed request must not take the control socket down with it.
            catch (Exception e) when (!token.IsCancellationRequested && e is not OutOfMemoryException)
#pragma warning restore CA1031
            {
                _log?.Invoke($"control socket: request failed: {e.GetType().Name}: {e.Message}");
            }
        }
    }

    /// <summary>Reads up to the first newline (or the end of the client's data); null when the line does not fit.</summary>
    private static async Task<string?> ReadLineAsync(Socket connection, byte[] buffer, CancellationToken cancellationToken)
    {
        var length = 0;
        while (length < buffer.Length)
        {
            var received = await connection.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            var newline = Array.IndexOf(buffer, (byte)'\n', length, received);
            length += received;
            if (newline >= 0)
            {
                return Encoding.UTF8.GetString(buffer, 0, newline);
            }

            if (received == 0)
            {
                return Encoding.UTF8.GetString(buffer, 0, length);
            }
        }

        return null;
    }
}
