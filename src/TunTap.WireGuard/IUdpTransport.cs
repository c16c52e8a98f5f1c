using System.Net;

namespace TunTap.WireGuard;

/// <summary>
/// The UDP side of a <see cref="WireGuardDevice"/>: receive and send datagrams addressed by a
/// <see cref="SocketAddress"/> (reused, so steady-state I/O allocates nothing). Implemented over a
/// real socket by <see cref="UdpSocketTransport"/>; tests may substitute an in-memory one.
/// </summary>
public interface IUdpTransport : IAsyncDisposable
{
    /// <summary>The local port datagrams arrive on.</summary>
    int Port { get; }

    /// <summary>A new address buffer suitable for <see cref="ReceiveAsync"/>.</summary>
    SocketAddress CreateAddress();

    /// <summary>The socket address to send to <paramref name="endPoint"/> (mapped for a dual-stack socket).</summary>
    SocketAddress ToSocketAddress(IPEndPoint endPoint);

    /// <summary>Waits for a datagram, writes it to <paramref name="buffer"/> and its sender to <paramref name="remote"/>.</summary>
    /// <returns>The datagram's length.</returns>
    ValueTask<int> ReceiveAsync(Memory<byte> buffer, SocketAddress remote, CancellationToken cancellationToken);

    /// <summary>Sends one datagram.</summary>
    ValueTask SendAsync(ReadOnlyMemory<byte> datagram, SocketAddress remote, CancellationToken cancellationToken);
}
