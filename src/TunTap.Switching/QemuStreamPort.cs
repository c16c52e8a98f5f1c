using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using TunTap.Buffers;
using TunTap.Services;

namespace TunTap.Switching;

/// <summary>
/// A switch port that QEMU connects to: the switch listens on a Unix or TCP socket and a VM with
/// <c>-netdev stream,server=off,addr.type=unix,addr.path=PATH</c> (or <c>addr.type=inet</c>)
/// connects. Every frame travels with a 4-byte big-endian length in front. One VM at a time: when
/// it disconnects, or sends a length that cannot be a frame (the stream is then out of step and
/// cannot be trusted), the connection is dropped with a logged reason and the next one accepted.
/// </summary>
public sealed class QemuStreamPort : ISwitchPort
{
    private const int LengthPrefix = 4;
    private readonly Socket _listener;
    private readonly string? _unixPath;
    private readonly Action<string>? _log;
    private readonly byte[] _receiveBuffer;
    private readonly byte[] _sendBuffer;
    private volatile Socket? _connection;
    private int _start;
    private int _end;
    private long _generation;
    private long _droppedConnections;
    private int _disposed;

    private QemuStreamPort(Socket listener, string name, string? unixPath, int maxFrameSize, int sendBatch, Action<string>? log)
    {
        _listener = listener;
        _unixPath = unixPath;
        _log = log;
        Name = name;
        MaxFrameSize = maxFrameSize;
        _receiveBuffer = new byte[Math.Max(64 * 1024, 4 * (maxFrameSize + LengthPrefix))];
        _sendBuffer = new byte[sendBatch * (maxFrameSize + LengthPrefix)];
        LocalEndPoint = listener.LocalEndPoint!;
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>Where the port listens (for TCP with port 0: the port the kernel picked).</summary>
    public EndPoint LocalEndPoint { get; }

    /// <summary>The longest frame accepted; a longer length prefix drops the connection.</summary>
    public int MaxFrameSize { get; }

    /// <summary>True while a VM is connected.</summary>
    public bool IsConnected => _connection is not null;

    /// <summary>Connections dropped because of garbage or errors (not clean disconnects).</summary>
    public long DroppedConnections => Interlocked.Read(ref _droppedConnections);

    /// <inheritdoc/>
    public long PeerGeneration => Interlocked.Read(ref _generation);

    /// <summary>Listens on a Unix stream socket at <paramref name="path"/> (a stale socket file there is replaced).</summary>
    /// <param name="path">The socket path.</param>
    /// <param name="maxFrameSize">The longest frame accepted.</param>
    /// <param name="sendBatch">The most frames sent in one batch.</param>
    /// <param name="log">Receives a line per connection event.</param>
    /// <exception cref="TunTapException">The path is in use by a live socket, is not a socket, or cannot be bound.</exception>
    public static QemuStreamPort ListenUnix(string path, int maxFrameSize = 1518, int sendBatch = 64, Action<string>? log = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);

        // Not owner-only: QEMU often runs as another user than the switch.
        var socket = UnixSocketListener.Listen(path, 4, ownerOnly: false, () => new TunTapException($"unix socket '{path}' is in use by another process", "pick another path, or stop the process listening there"));
        return new QemuStreamPort(socket, $"qemu:unix:{path}", path, maxFrameSize, sendBatch, log);
    }

    /// <summary>Listens on TCP at <paramref name="endpoint"/>.</summary>
    /// <param name="endpoint">Address and port (port 0: any free port, see <see cref="LocalEndPoint"/>).</param>
    /// <param name="maxFrameSize">The longest frame accepted.</param>
    /// <param name="sendBatch">The most frames sent in one batch.</param>
    /// <param name="log">Receives a line per connection event.</param>
    /// <exception cref="TunTapException">The address cannot be bound (in use, not local).</exception>
    public static QemuStreamPort ListenTcp(IPEndPoint endpoint, int maxFrameSize = 1518, int sendBatch = 64, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(endpoint);
            socket.Listen(4);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new TunTapException($"cannot listen on tcp {endpoint}: {e.Message}", "pick a free port, or an address of this host", e);
        }

        return new QemuStreamPort(socket, $"qemu:tcp:{endpoint}", null, maxFrameSize, sendBatch, log);
    }

    /// <inheritdoc/>
    public async ValueTask<int> ReceiveBatchAsync(PacketBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        batch.Clear();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var connection = _connection;
            if (connection is null)
            {
                connection = await _listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
                if (connection.ProtocolType == ProtocolType.Tcp)
                {
                    connection.NoDelay = true;
                }

                _start = 0;
                _end = 0;
                Interlocked.Increment(ref _generation);
                _connection = connection;
                _log?.Invoke($"{Name}: peer connected{Describe(connection.RemoteEndPoint)}");
            }

            if (ParseFrames(batch, out var garbage))
            {
                return batch.Count;
            }

            if (garbage is not null)
            {
                Drop(connection, garbage, error: true);
                if (batch.Count > 0)
                {
                    return batch.Count;
                }

                continue;
            }

            if (_start > 0)
            {
                Buffer.BlockCopy(_receiveBuffer, _start, _receiveBuffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }

            int received;
            try
            {
                received = await connection.ReceiveAsync(_receiveBuffer.AsMemory(_end), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                Drop(connection, e.Message, error: true);
                continue;
            }

            if (received == 0)
            {
                Drop(connection, _end > 0 ? "peer closed the connection in the middle of a frame" : "peer closed the connection", error: _end > 0);
                continue;
            }

            _end += received;
        }
    }

    /// <inheritdoc/>
    public async ValueTask<int> SendBatchAsync(PacketBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var connection = _connection;
        if (connection is null || batch.Count == 0)
        {
            return 0;
        }

        var length = 0;
        var frames = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            var frame = batch[i];
            if (length + LengthPrefix + frame.Length > _sendBuffer.Length)
            {
                break;
            }

            BinaryPrimitives.WriteUInt32BigEndian(_sendBuffer.AsSpan(length), (uint)frame.Length);
            frame.CopyTo(_sendBuffer.AsSpan(length + LengthPrefix));
            length += LengthPrefix + frame.Length;
            frames++;
        }

        try
        {
            var sent = 0;
            while (sent < length)
            {
                sent += await connection.SendAsync(_sendBuffer.AsMemory(sent, length - sent), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }

            return frames;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The receiving side notices the broken connection and drops it.
            return 0;
        }
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _connection?.Dispose();
            _connection = null;
            _listener.Dispose();
            if (_unixPath is not null)
            {
                UnixSocketListener.Remove(_unixPath);
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Moves whole frames from the receive buffer into the batch; true when the batch got frames and no more whole ones are buffered or it is full.</summary>
    private bool ParseFrames(PacketBatch batch, out string? garbage)
    {
        garbage = null;
        while (batch.Count < batch.Capacity && _end - _start >= LengthPrefix)
        {
            var length = BinaryPrimitives.ReadUInt32BigEndian(_receiveBuffer.AsSpan(_start));
            if (length is < 14 || length > (uint)MaxFrameSize || length > (uint)batch.MaxPacketSize)
            {
                garbage = string.Create(CultureInfo.InvariantCulture, $"length prefix {length} is not a frame length (14-{Math.Min(MaxFrameSize, batch.MaxPacketSize)}); garbage on the stream");
                return false;
            }

            if (_end - _start < LengthPrefix + (int)length)
            {
                break;
            }

            batch.TryAdd(_receiveBuffer.AsSpan(_start + LengthPrefix, (int)length));
            _start += LengthPrefix + (int)length;
        }

        return batch.Count > 0;
    }

    private void Drop(Socket connection, string reason, bool error)
    {
        if (error)
        {
            Interlocked.Increment(ref _droppedConnections);
        }

        _connection = null;
        _start = 0;
        _end = 0;
        connection.Dispose();
        _log?.Invoke($"{Name}: {(error ? "dropped the connection" : "peer disconnected")}: {reason}; waiting for the next one");
    }

    private static string Describe(EndPoint? endpoint) => endpoint is IPEndPoint ip ? $" from {ip}" : "";
}
