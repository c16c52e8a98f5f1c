using System.Buffers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace TunTap.Services;

/// <summary>
/// The control socket of a long-running command (a switch, an emulation): a Unix stream socket,
/// mode 0600, removed on dispose. Each connection carries one request line (at most
/// <see cref="MaxLineLength"/> bytes, ended by '\n' or by the client shutting down its side)
/// and gets one line of JSON back (<c>{"ok":true,...}</c> or <c>{"ok":false,"error":...,"hint":...}</c>,
/// which <see cref="ControlSocketClient"/> reads); then the server closes it. Connections are
/// served one at a time, each within a few seconds; a failing request never takes the socket down.
/// </summary>
public sealed class ControlSocketServer : IAsyncDisposable
{
    /// <summary>Where control sockets live.</summary>
    public const string RunDirectory = "/run/tuntap";

    /// <summary>The longest request line, newline included.</summary>
    public const int MaxLineLength = 4096;

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);
    private readonly Func<string, Task<string>> _handle;
    private readonly Action<string>? _log;
    private readonly byte[] _buffer = new byte[MaxLineLength];
    private readonly SocketAcceptLoop _accepting;

    private ControlSocketServer(Socket listener, string path, Func<string, Task<string>> handle, Action<string>? log)
    {
        Path = path;
        _handle = handle;
        _log = log;

        // One connection at a time: the loop accepts the next when this one is answered.
        _accepting = new SocketAcceptLoop(listener, path, ServeAsync);
    }

    /// <summary>The socket's path.</summary>
    public string Path { get; }

    /// <summary>Listens on <paramref name="path"/> and answers each request line with <paramref name="handle"/>'s JSON line.</summary>
    /// <param name="path">The socket's path (its directory is created; a stale socket is replaced).</param>
    /// <param name="handle">Turns a request line into a one-line JSON answer.</param>
    /// <param name="inUse">The error when a live process already serves <paramref name="path"/>.</param>
    /// <param name="log">Receives a line per failed request.</param>
    /// <exception cref="TunTapException">In use, or the socket cannot be created.</exception>
    public static ControlSocketServer Listen(string path, Func<string, Task<string>> handle, Func<TunTapException> inUse, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(handle);
        var listener = UnixSocketListener.Listen(path, 8, ownerOnly: true, inUse);
        return new ControlSocketServer(listener, path, handle, log);
    }

    /// <summary>The names NAME of the sockets <c>PREFIXNAME.sock</c> in <paramref name="directory"/> (the running instances), sorted.</summary>
    public static IReadOnlyList<string> ListRunning(string prefix, string directory = RunDirectory)
    {
        var names = new List<string>();
        if (Directory.Exists(directory))
        {
            foreach (var file in Directory.EnumerateFiles(directory, $"{prefix}*.sock"))
            {
                var name = System.IO.Path.GetFileName(file);
                names.Add(name[prefix.Length..^".sock".Length]);
            }
        }

        names.Sort(StringComparer.Ordinal);
        return names;
    }

    /// <summary>The JSON line of a request that worked: <c>{"ok":true, ...what <paramref name="body"/> writes}</c>.</summary>
    public static string Success(Action<Utf8JsonWriter> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        return Line(w =>
        {
            w.WriteBoolean("ok", true);
            body(w);
        });
    }

    /// <summary>The JSON line of a failed request: <c>{"ok":false,"error":...,"hint":...}</c>.</summary>
    public static string Failure(string error, string? hint) => Line(w =>
    {
        w.WriteBoolean("ok", false);
        w.WriteString("error", error);
        w.WriteString("hint", hint);
    });

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _accepting.DisposeAsync();

    private async Task ServeAsync(Socket accepted, CancellationToken token)
    {
        var buffer = _buffer;
        using var connection = accepted;
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(token);
        reading.CancelAfter(RequestTimeout);

        // Not linked to the server's token: a request such as 'stop' makes the owner dispose the
        // server while it is being answered, and its answer must still go out.
        using var answering = new CancellationTokenSource(RequestTimeout);
        try
        {
            var (line, silent) = await ReadLineAsync(connection, buffer, reading.Token).ConfigureAwait(false);
            if (silent)
            {
                // A probe (is anyone listening?) connects and closes without asking anything.
                return;
            }

            var response = line is null
                ? Failure($"request longer than {MaxLineLength - 1} bytes or not ended by a newline", null)
                : await _handle(line).ConfigureAwait(false);
            await connection.SendAsync(Encoding.UTF8.GetBytes(response + "\n"), SocketFlags.None, answering.Token).ConfigureAwait(false);

            // Closing with unread input would reset the connection before the client reads the
            // answer: say we are done, then read (a bounded amount of) whatever else it sent.
            connection.Shutdown(SocketShutdown.Send);
            for (var drained = 0; drained < 16 * MaxLineLength;)
            {
                var n = await connection.ReceiveAsync(buffer, SocketFlags.None, answering.Token).ConfigureAwait(false);
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

    private static string Line(Action<Utf8JsonWriter> members)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            members(w);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>
    /// Reads up to the first newline (or the end of the client's data). Line null: it does not fit;
    /// silent: the client closed without sending a byte.
    /// </summary>
    private static async Task<(string? Line, bool Silent)> ReadLineAsync(Socket connection, byte[] buffer, CancellationToken cancellationToken)
    {
        var length = 0;
        while (length < buffer.Length)
        {
            var received = await connection.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            var newline = Array.IndexOf(buffer, (byte)'\n', length, received);
            length += received;
            if (newline >= 0)
            {
                return (Encoding.UTF8.GetString(buffer, 0, newline), false);
            }

            if (received == 0)
            {
                return (Encoding.UTF8.GetString(buffer, 0, length), length == 0);
            }
        }

        return (null, false);
    }
}
