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

    /// <summary>
    /// Sends the datagrams of <paramref name="batch"/> in order. A datagram the network refuses is
    /// dropped, not thrown. By default one <see cref="SendAsync"/> each; a transport may batch
    /// syscalls and use segmentation offload.
    /// </summary>
    /// <returns>How many datagrams were handed to the network.</returns>
    async ValueTask<int> SendBatchAsync(UdpSendBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var sent = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            try
            {
                await SendAsync(batch.GetDatagram(i), batch.GetRemote(i), cancellationToken).ConfigureAwait(false);
                sent++;
            }
            catch (System.Net.Sockets.SocketException)
            {
            }
        }

        return sent;
    }

    /// <summary>
    /// Waits for at least one datagram, then fills <paramref name="batch"/> with what is ready (at
    /// least one, at most its capacity). By default one <see cref="ReceiveAsync"/>; a transport may
    /// receive several per syscall.
    /// </summary>
    /// <returns>How many datagrams were received (also in <see cref="UdpReceiveBatch.Count"/>).</returns>
    async ValueTask<int> ReceiveBatchAsync(UdpReceiveBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        batch.Count = 0;
        var length = await ReceiveAsync(batch.GetDatagramBuffer(0), batch.GetRemote(0), cancellationToken).ConfigureAwait(false);
        batch.SetDatagramLength(0, length);
        batch.Count = 1;
        return 1;
    }
}
