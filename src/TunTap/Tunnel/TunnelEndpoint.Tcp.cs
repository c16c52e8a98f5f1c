using System.Net;
using System.Net.Sockets;

namespace TunTap.Tunnel;

/// <content>The TCP server and client roles.</content>
public sealed partial class TunnelEndpoint
{
    /// <summary>
    /// Accepted connections still in the hello, at most: each has a thread of its own until its
    /// hello or the handshake timeout, so a flood of connections that say nothing is refused at
    /// the door instead of costing a thread each.
    /// </summary>
    private const int MaxPendingHellos = 16;

    private int _congestionControlRefused;
    private int _pendingHellos;

    private async Task ServeTcpAsync(IPEndPoint listen, CancellationToken cancellationToken)
    {
        using var listener = Bind(listen, SocketType.Stream, ProtocolType.Tcp);
        Log($"listening on tcp {listener.LocalEndPoint}");
        var connections = new List<Task>();
        try
        {
            while (true)
            {
                var socket = await listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
                connections.RemoveAll(static task => task.IsCompleted);
                if (Interlocked.Increment(ref _pendingHellos) > MaxPendingHellos)
                {
                    Interlocked.Decrement(ref _pendingHellos);
                    Log($"peer {Describe(socket.RemoteEndPoint)} refused: {MaxPendingHellos} connections are already in the hello");
                    socket.Dispose();
                    continue;
                }

                connections.Add(OnOwnThread(() => ServeTcpClient(socket, cancellationToken)));
            }
        }
        finally
        {
            listener.Close();
            await Task.WhenAll(connections).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>
    /// One accepted client, start to end, on its own thread (the receive loop blocks in
    /// <c>poll()</c>). Never throws: a mismatch ends the endpoint through <see cref="Fail"/>.
    /// </summary>
    private bool ServeTcpClient(Socket socket, CancellationToken cancellationToken)
    {
        var remote = "unknown peer";
        TcpPeerLink? link = null;
        var published = false;
        var inHello = true;
        try
        {
            remote = Describe(socket.RemoteEndPoint);
            link = new TcpPeerLink(socket, this, remote);
            link.Handshake(cancellationToken);
            Interlocked.Decrement(ref _pendingHellos);
            inHello = false;
            Publish(link);
            published = true;
            var reason = link.Serve(cancellationToken);
            Log($"peer {remote} disconnected: {reason}");
        }
        catch (TunnelMismatchException ex)
        {
            Fail(ex);
        }
        catch (TunnelProtocolException ex)
        {
            Log($"peer {remote} dropped: {ex.Message}");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down.
        }
        catch (Exception ex) when (IsLinkFailure(ex))
        {
            Log(published ? $"peer {remote} disconnected: {ex.Message}" : $"peer {remote} dropped before the hello: {ex.Message}");
        }
        finally
        {
            if (inHello)
            {
                Interlocked.Decrement(ref _pendingHellos);
            }

            if (link is null)
            {
                socket.Dispose();
            }
            else
            {
                Unpublish(link);
                link.Close();
            }
        }

        return published;
    }

    private async Task ConnectTcpAsync(CancellationToken cancellationToken)
    {
        var backoff = new ReconnectBackoff(Options.MinBackoff, Options.MaxBackoff, Options.Seed);
        var target = $"{Options.Connect!.Host}:{Options.Connect.Port}";
        while (true)
        {
            TcpPeerLink? link = null;
            var published = false;
            try
            {
                var remote = await ResolveAsync(cancellationToken).ConfigureAwait(false);
                var socket = NewSocket(remote.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                link = new TcpPeerLink(socket, this, remote.ToString());
                var current = link;
                var reason = await OnOwnThread(() =>
                {
                    TcpStream.Connect(socket, remote, Options.HandshakeTimeout, cancellationToken);
                    current.Handshake(cancellationToken);
                    Publish(current);
                    published = true;
                    backoff.Reset();
                    return current.Serve(cancellationToken);
                }).ConfigureAwait(false);
                Log($"peer {link.Description} disconnected: {reason}");
            }
            catch (Exception ex) when (ex is TimeoutException or TunnelProtocolException)
            {
                Log($"peer {target} dropped: {ex.Message}");
            }
            catch (Exception ex) when (IsLinkFailure(ex))
            {
                Log(published ? $"peer {target} disconnected: {ex.Message}" : $"connecting to {target} failed: {ex.Message}");
            }
            finally
            {
                if (link is not null)
                {
                    Unpublish(link);
                    link.Close();
                }
            }

            await backoff.WaitAsync(Time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Sets the congestion control asked for on a new connection; says once if the kernel refused it.</summary>
    internal void TuneTcpSocket(Socket socket)
    {
        if (Options.CongestionControl is not { } name)
        {
            return;
        }

        var refusal = TcpStream.TrySetCongestionControl(socket, name);
        if (refusal is not null && Interlocked.Exchange(ref _congestionControlRefused, 1) == 0)
        {
            Log(refusal);
        }
    }

    private static string Describe(EndPoint? endpoint) => endpoint switch
    {
        IPEndPoint { Address.IsIPv4MappedToIPv6: true } ip => new IPEndPoint(ip.Address.MapToIPv4(), ip.Port).ToString(),
        null => "unknown peer",
        _ => endpoint.ToString() ?? "unknown peer",
    };
}
