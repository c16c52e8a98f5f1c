using System.Net.Sockets;
using System.Text;
using TunTap.Services;

namespace TunTap.Emulation.Topology;

/// <summary>
/// A running emulation's control socket, <c>/run/tuntap/emulate-NAME.sock</c> (a Unix stream
/// socket, mode 0600, removed on dispose), the way the switch serves its own: each connection
/// carries one request line (at most <see cref="MaxLineLength"/> bytes) and gets one JSON line from
/// <see cref="EmulationControlHandler"/>, then the server closes it. One connection at a time,
/// each within a few seconds; a failing request never takes the socket down.
/// </summary>
public sealed class EmulationControlServer : IAsyncDisposable
{
    /// <summary>Where control sockets live.</summary>
    public const string RunDirectory = "/run/tuntap";

    /// <summary>The longest request line, newline included.</summary>
    public const int MaxLineLength = 4096;

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);
    private readonly Socket _listener;
    private readonly EmulationControlHandler _handler;
    private readonly Action<string>? _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;
    private int _disposed;

    private EmulationControlServer(Socket listener, string path, EmulationControlHandler handler, Action<string>? log)
    {
        _listener = listener;
        Path = path;
        _handler = handler;
        _log = log;
        _serving = Task.Run(ServeAsync);
    }

    /// <summary>The socket's path.</summary>
    public string Path { get; }

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
    public static IReadOnlyList<string> ListRunning(string directory = RunDirectory)
    {
        var names = new List<string>();
        if (Directory.Exists(directory))
        {
            foreach (var file in Directory.EnumerateFiles(directory, "emulate-*.sock"))
            {
                names.Add(System.IO.Path.GetFileName(file)["emulate-".Length..^".sock".Length]);
            }
        }

        names.Sort(StringComparer.Ordinal);
        return names;
    }

    /// <summary>True when something answers on <paramref name="path"/>.</summary>
    public static bool IsListening(string path)
    {
        if (!File.Exists(path))
        {
            return false;
        }

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Listens on <paramref name="path"/> (its directory is created; a stale socket is replaced) and serves <paramref name="handler"/>.</summary>
    /// <exception cref="TunTapException">An emulation of that name is already running, or the socket cannot be created.</exception>
    public static EmulationControlServer Listen(string path, EmulationControlHandler handler, Action<string>? log = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(handler);
        var directory = System.IO.Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(directory) && !OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }

        if (IsListening(path))
        {
            throw new TunTapException($"an emulation named {handler.Name} is already running (control socket {path})", "stop it first ('tuntap emulate down'), or pick another name");
        }

        if (File.Exists(path))
        {
            // Nobody answers: left over from an emulation that was killed.
            File.Delete(path);
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
            throw new TunTapException($"cannot create the control socket {path}: {e.Message}", "run as root, and check that the directory is writable", e);
        }

        return new EmulationControlServer(listener, path, handler, log);
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
            // Already gone.
        }

        _stop.Dispose();
    }

    private async Task ServeAsync()
    {
        var token = _stop.Token;
        var buffer = new byte[MaxLineLength];
        while (!token.IsCancellationRequested)
        {
            Socket accepted;
            try
            {
                accepted = await _listener.AcceptAsync(token).ConfigureAwait(false);
            }
            catch (SocketException) when (!token.IsCancellationRequested)
            {
                // Transient (e.g. out of descriptors): the emulation keeps running, so must its socket.
                if (!await AcceptBackoff.WaitAsync(token).ConfigureAwait(false))
                {
                    return;
                }

                continue;
            }

            using var connection = accepted;

            // Not linked to the server's token: a 'stop' request disposes the server while it is being
            // answered, and its answer must still go out.
            using var timeout = new CancellationTokenSource(RequestTimeout);
            try
            {
                var line = await ReadLineAsync(connection, buffer, timeout.Token).ConfigureAwait(false);
                if (line is { Length: 0 })
                {
                    // A probe (IsListening) connects and closes without asking anything.
                    continue;
                }

                var response = line is null
                    ? $"{{\"ok\":false,\"error\":\"request longer than {MaxLineLength - 1} bytes or not ended by a newline\",\"hint\":null}}"
                    : _handler.Handle(line);
                await connection.SendAsync(Encoding.UTF8.GetBytes(response + "\n"), SocketFlags.None, timeout.Token).ConfigureAwait(false);

                // Say we are done, then read what else the client sent (bounded): closing with unread
                // input would reset the connection before the client has read the answer.
                connection.Shutdown(SocketShutdown.Send);
                for (var drained = 0; drained < 16 * MaxLineLength;)
                {
                    var n = await connection.ReceiveAsync(buffer, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                    if (n == 0)
                    {
                        break;
                    }

                    drained += n;
                }
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
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
