using System.Net.Sockets;

namespace TunTap.Services;

/// <summary>
/// Accepts connections on a listening socket until disposed and hands each to a callback; a
/// failed accept that is not a shutdown (e.g. EMFILE) waits <see cref="AcceptBackoff.Delay"/> and
/// accepts again, so the service neither stops nor spins. Disposing stops accepting, closes the
/// listener, waits for the loop (and so for a callback in progress) and removes the Unix socket
/// file, if any. The callback owns the connection it is given.
/// </summary>
public sealed class SocketAcceptLoop : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly string? _unixPath;
    private readonly Func<Socket, CancellationToken, Task> _serve;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _disposed;

    /// <summary>Starts accepting on <paramref name="listener"/>; <paramref name="serve"/> gets each connection and the loop's stop token.</summary>
    /// <param name="listener">A bound, listening socket; the loop owns it.</param>
    /// <param name="unixPath">The Unix socket file to remove on dispose, or null.</param>
    /// <param name="serve">Handles one connection; the next is accepted when it completes (start a task to serve concurrently).</param>
    public SocketAcceptLoop(Socket listener, string? unixPath, Func<Socket, CancellationToken, Task> serve)
    {
        ArgumentNullException.ThrowIfNull(listener);
        ArgumentNullException.ThrowIfNull(serve);
        _listener = listener;
        _unixPath = unixPath;
        _serve = serve;
        _loop = Task.Run(RunAsync);
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
            await _loop.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // Stopped.
        }

        if (_unixPath is not null)
        {
            UnixSocketListener.Remove(_unixPath);
        }

        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            Socket connection;
            try
            {
                connection = await _listener.AcceptAsync(token).ConfigureAwait(false);
            }
            catch (SocketException) when (!token.IsCancellationRequested)
            {
                if (!await AcceptBackoff.WaitAsync(token).ConfigureAwait(false))
                {
                    return;
                }

                continue;
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            await _serve(connection, token).ConfigureAwait(false);
        }
    }
}
