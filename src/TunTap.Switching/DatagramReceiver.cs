using System.Net;
using System.Net.Sockets;
using TunTap.Buffers;

namespace TunTap.Switching;

/// <summary>
/// The receive side of a switch port that carries one frame per datagram (QEMU's dgram backend,
/// VXLAN): waits for one datagram, then takes whatever else is already queued, without waiting,
/// until the batch is full, and hands each to the port's <see cref="DatagramHandler"/>. Errors the
/// socket reports for earlier sends (refused, unreachable) and oversized datagrams are skipped, not
/// thrown. Nothing is allocated per datagram.
/// </summary>
internal sealed class DatagramReceiver
{
    /// <summary>The largest datagram received whole (a UDP datagram cannot be longer).</summary>
    private const int BufferSize = 65536;

    private readonly Socket _socket;
    private readonly SocketAddress _from;
    private readonly DatagramHandler _accept;
    private readonly Action? _onReceiveError;
    private readonly byte[] _buffer = new byte[BufferSize];

    /// <summary>A receiver on <paramref name="socket"/> (the port owns and disposes it).</summary>
    /// <param name="socket">A bound datagram socket.</param>
    /// <param name="from">Filled with each datagram's sender before <paramref name="accept"/> runs.</param>
    /// <param name="accept">Takes each datagram.</param>
    /// <param name="onReceiveError">Counts a skipped receive error, or null.</param>
    public DatagramReceiver(Socket socket, SocketAddress from, DatagramHandler accept, Action? onReceiveError = null)
    {
        _socket = socket;
        _from = from;
        _accept = accept;
        _onReceiveError = onReceiveError;
    }

    /// <summary>Waits until at least one datagram became a frame in <paramref name="batch"/>, then fills it with what is ready; returns the count.</summary>
    public async ValueTask<int> ReceiveBatchAsync(PacketBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        batch.Clear();
        while (true)
        {
            int received;
            try
            {
                received = await _socket.ReceiveFromAsync(_buffer, SocketFlags.None, _from, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e) when (IsTransient(e))
            {
                _onReceiveError?.Invoke();
                continue;
            }

            _accept(batch, _buffer.AsSpan(0, received));

            // Take whatever else is already queued, without waiting.
            while (batch.Count < batch.Capacity && _socket.Available > 0)
            {
                try
                {
                    received = _socket.ReceiveFrom(_buffer, SocketFlags.None, _from);
                }
                catch (SocketException e) when (IsTransient(e))
                {
                    _onReceiveError?.Invoke();
                    continue;
                }

                _accept(batch, _buffer.AsSpan(0, received));
            }

            if (batch.Count > 0)
            {
                return batch.Count;
            }
        }
    }

    private static bool IsTransient(SocketException e) =>
        e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionRefused or SocketError.MessageSize or SocketError.HostUnreachable or SocketError.NetworkUnreachable;
}
