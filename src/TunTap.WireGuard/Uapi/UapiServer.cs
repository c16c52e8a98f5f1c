using System.Net.Sockets;
using System.Text;
using TunTap.Services;

namespace TunTap.WireGuard.Uapi;

/// <summary>
/// The wireguard-go compatible control socket: a Unix stream socket at
/// <c>/var/run/wireguard/NAME.sock</c> (directory 0755, socket 0600) where <c>wg</c> sends
/// <c>get=1</c> and <c>set=1</c> requests. A stale socket left by a dead process is replaced; one
/// a live process answers on is not. Each connection is served on its own; one that sends no
/// line for <see cref="DefaultIdleTimeout"/> is closed, so silent clients cannot pile up.
/// Disposing stops serving and removes the socket file.
/// </summary>
public sealed class UapiServer : IAsyncDisposable
{
    /// <summary>Where wg looks for userspace implementations' sockets.</summary>
    public const string DefaultDirectory = "/var/run/wireguard";

    /// <summary>How long a connection may stay silent (mid-request or between requests) before it is closed.</summary>
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromSeconds(10);

    private const int MaxLineLength = 4096;
    private const int MaxRequestLines = 1 << 16;

    private readonly WireGuardInterface _interface;
    private readonly TimeSpan _idleTimeout;
    private readonly SocketAcceptLoop _accepting;

    private UapiServer(Socket listener, string path, WireGuardInterface wireGuardInterface, TimeSpan idleTimeout)
    {
        _idleTimeout = idleTimeout;
        SocketPath = path;
        _interface = wireGuardInterface;
        _accepting = new SocketAcceptLoop(listener, path, StartServing);
    }

    /// <summary>The socket's path.</summary>
    public string SocketPath { get; }

    /// <summary>The path of interface <paramref name="name"/>'s socket.</summary>
    public static string GetSocketPath(string name, string directory = DefaultDirectory) => Path.Combine(directory, name + ".sock");

    /// <summary>Creates the socket for <paramref name="wireGuardInterface"/> and starts answering.</summary>
    /// <param name="wireGuardInterface">The interface to configure and report.</param>
    /// <param name="directory">Where the socket goes.</param>
    /// <param name="idleTimeout">Closes a connection silent this long; default <see cref="DefaultIdleTimeout"/>.</param>
    /// <exception cref="TunTapException">Another live process owns the socket.</exception>
    public static UapiServer Listen(WireGuardInterface wireGuardInterface, string directory = DefaultDirectory, TimeSpan? idleTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(wireGuardInterface);
        var idle = idleTimeout ?? DefaultIdleTimeout;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(idle, TimeSpan.Zero, nameof(idleTimeout));
        var path = GetSocketPath(wireGuardInterface.Name, directory);
        var listener = UnixSocketListener.Listen(path, 16, ownerOnly: true, () => new TunTapException(
            $"{path} is in use by another process", $"stop the process serving {wireGuardInterface.Name}, or choose another interface name"));
        return new UapiServer(listener, path, wireGuardInterface, idle);
    }

    /// <summary>Answers one connection's requests until it closes (exposed for tests over a socket pair or stream).</summary>
    public async Task ServeAsync(Stream connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var reader = new StreamReader(connection, Encoding.UTF8, false, 4096, leaveOpen: true);
        var writer = new StreamWriter(connection, new UTF8Encoding(false), 4096, leaveOpen: true) { NewLine = "\n" };
        await using (writer.ConfigureAwait(false))
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var operation = await ReadLineAsync(reader, cancellationToken).ConfigureAwait(false);
                string reply;
                switch (operation)
                {
                    case "get=1":
                        var end = await ReadLineAsync(reader, cancellationToken).ConfigureAwait(false);
                        reply = end is null ? "" : end.Length == 0 ? _interface.GetConfiguration() + "errno=0\n\n" : $"errno={UapiErrno.Invalid}\n\n";
                        break;
                    case "set=1":
                        var lines = await ReadRequestAsync(reader, cancellationToken).ConfigureAwait(false);
                        if (lines is null)
                        {
                            return;
                        }

                        var errno = UapiParser.TryParseSet(lines, out var request);
                        if (request is not null)
                        {
                            errno = await _interface.ApplyAsync(request).ConfigureAwait(false);
                        }

                        reply = $"errno={errno}\n\n";
                        break;
                    default:
                        // Unknown operation or end of stream: wireguard-go closes the connection.
                        return;
                }

                if (reply.Length == 0)
                {
                    return;
                }

                await writer.WriteAsync(reply.AsMemory(), cancellationToken).ConfigureAwait(false);
                await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Stops answering and removes the socket file.</summary>
    public ValueTask DisposeAsync() => _accepting.DisposeAsync();

    // Null (the connection ends) at end of stream, for an over-long line, or after the idle timeout.
    private async Task<string?> ReadLineAsync(StreamReader reader, CancellationToken cancellationToken)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        idle.CancelAfter(_idleTimeout);
        string? line;
        try
        {
            line = await reader.ReadLineAsync(idle.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }

        return line is { Length: > MaxLineLength } ? null : line;
    }

    // The lines up to the empty line that ends a set request; null when the stream ends first or it is absurdly long.
    private async Task<List<string>?> ReadRequestAsync(StreamReader reader, CancellationToken cancellationToken)
    {
        var lines = new List<string>();
        while (lines.Count < MaxRequestLines)
        {
            var line = await ReadLineAsync(reader, cancellationToken).ConfigureAwait(false);
            if (line is null)
            {
                return null;
            }

            if (line.Length == 0)
            {
                return lines;
            }

            lines.Add(line);
        }

        return null;
    }

    // Each connection on its own task: a slow or silent client never holds up the next one. The
    // task is not started with the stop token: a connection accepted while the server stops would
    // then never run, and never be closed; started, it sees the token and closes the connection.
    internal Task StartServing(Socket connection, CancellationToken token)
    {
        _ = Task.Run(async () =>
        {
            await using var stream = new NetworkStream(connection, ownsSocket: true);
            try
            {
                await ServeAsync(stream, token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
            {
                // The client went away; nothing to answer.
            }
        }, CancellationToken.None);
        return Task.CompletedTask;
    }
}
