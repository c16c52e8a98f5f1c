using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace TunTap.WireGuard;

/// <summary>
/// An <see cref="IUdpTransport"/> over one bound UDP socket. Batches go out with <c>sendmmsg</c>,
/// runs of equal-sized datagrams to one peer as one UDP segmentation-offload send
/// (<c>UDP_SEGMENT</c>; turned off for good when the kernel refuses it), and come in with
/// <c>recvmmsg</c>.
/// </summary>
public sealed partial class UdpSocketTransport : IUdpTransport
{
    private const int SocketBufferSize = 7 << 20;

    private readonly Socket _socket;

    private UdpSocketTransport(Socket socket)
    {
        _socket = socket;
        Port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        TryEnableReceiveOffload();
    }

    /// <summary>False once the kernel refused a segmentation-offload send: from then on datagrams go one per message.</summary>
    public bool SegmentationOffload => Volatile.Read(ref _gso);

    /// <inheritdoc/>
    public int Port { get; }

    /// <summary>
    /// Binds a UDP socket to <paramref name="localEndPoint"/> (port 0: the kernel picks one). An
    /// IPv6 wildcard address gives a dual-stack socket that also serves IPv4 peers.
    /// </summary>
    public static UdpSocketTransport Bind(IPEndPoint localEndPoint)
    {
        ArgumentNullException.ThrowIfNull(localEndPoint);
        var socket = new Socket(localEndPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (localEndPoint.AddressFamily == AddressFamily.InterNetworkV6 && localEndPoint.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            // Bursts of a whole TUN batch must not overflow the default (~200 KB) queue; the kernel
            // caps this at net.core.rmem_max/wmem_max.
            socket.ReceiveBufferSize = SocketBufferSize;
            socket.SendBufferSize = SocketBufferSize;
            socket.Bind(localEndPoint);
            return new UdpSocketTransport(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Marks every datagram sent with <paramref name="mark"/> (SO_MARK, for policy routing; 0: none). Needs CAP_NET_ADMIN.</summary>
    public void SetFirewallMark(uint mark)
    {
        const int SolSocket = 1;
        const int SoMark = 36;
        Span<byte> value = stackalloc byte[sizeof(uint)];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(value, mark);
        _socket.SetRawSocketOption(SolSocket, SoMark, value);
    }

    /// <inheritdoc/>
    public SocketAddress CreateAddress() => new(_socket.AddressFamily);

    /// <inheritdoc/>
    public SocketAddress ToSocketAddress(IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        if (_socket.AddressFamily == AddressFamily.InterNetworkV6 && endPoint.AddressFamily == AddressFamily.InterNetwork)
        {
            endPoint = new IPEndPoint(endPoint.Address.MapToIPv6(), endPoint.Port);
        }

        return endPoint.Serialize();
    }

    /// <inheritdoc/>
    public ValueTask<int> ReceiveAsync(Memory<byte> buffer, SocketAddress remote, CancellationToken cancellationToken) =>
        _socket.ReceiveFromAsync(buffer, SocketFlags.None, remote, cancellationToken);

    /// <inheritdoc/>
    public async ValueTask SendAsync(ReadOnlyMemory<byte> datagram, SocketAddress remote, CancellationToken cancellationToken) =>
        await _socket.SendToAsync(datagram, SocketFlags.None, remote, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc/>
    public ValueTask<int> SendBatchAsync(UdpSendBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        return new ValueTask<int>(SendBatch(batch));
    }

    /// <inheritdoc/>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> ReceiveBatchAsync(UdpReceiveBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var count = TryReceiveBatch(batch);
            if (count > 0)
            {
                return count;
            }

            // Nothing queued: a zero-byte peek completes when a datagram arrives, without taking it.
            await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.Peek, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _socket.Dispose();
            lock (_sendLock)
            {
                lock (_receiveLock)
                {
                    FreeScratch();
                }
            }
        }

        return ValueTask.CompletedTask;
    }
}
