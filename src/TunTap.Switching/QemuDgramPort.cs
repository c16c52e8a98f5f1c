using System.Net;
using System.Net.Sockets;
using TunTap.Buffers;
using TunTap.Wire;

namespace TunTap.Switching;

/// <summary>
/// A switch port for QEMU's datagram backend (<c>-netdev dgram,...</c>): every Ethernet frame is
/// one UDP (or Unix datagram) datagram, with no length prefix. The port binds a local address;
/// frames go to a fixed remote address when one is given (QEMU's <c>remote.*</c>), otherwise to
/// whoever sent the last datagram (nothing is sent before the first one arrives). Datagrams too
/// short to be a frame are counted and dropped. Nothing is allocated per datagram (only when the
/// peer's address changes).
/// </summary>
public sealed class QemuDgramPort : ISwitchPort, IPortCounterSource
{
    private readonly Socket _socket;
    private readonly string? _unixPath;
    private readonly SocketAddress _from;
    private readonly DatagramReceiver _receiver;
    private readonly bool _fixedRemote;
    private volatile SocketAddress? _peer;
    private long _generation;
    private long _receivedDatagrams;
    private long _sentDatagrams;
    private long _runts;
    private long _sendErrors;
    private int _disposed;

    /// <summary>A port over <paramref name="socket"/>, a bound datagram socket the port owns from now on.</summary>
    /// <param name="socket">A bound UDP or Unix datagram socket.</param>
    /// <param name="remote">Where frames are sent, or null: to the sender of the last datagram.</param>
    /// <param name="name">A name for counters and logs.</param>
    /// <param name="unixPath">A socket file to delete on dispose, or null.</param>
    public QemuDgramPort(Socket socket, EndPoint? remote, string name, string? unixPath = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentException.ThrowIfNullOrEmpty(name);
        _socket = socket;
        _unixPath = unixPath;
        _from = new SocketAddress(socket.AddressFamily, SocketAddress.GetMaximumAddressSize(socket.AddressFamily));
        _receiver = new DatagramReceiver(socket, _from, Accept);
        Remote = remote;
        _fixedRemote = remote is not null;
        _peer = remote?.Serialize();
        LocalEndPoint = socket.LocalEndPoint!;
        Name = name;
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>The fixed remote address, or null when frames go to the last sender.</summary>
    public EndPoint? Remote { get; }

    /// <summary>Where the port receives (with port 0 asked: the port the kernel picked).</summary>
    public EndPoint LocalEndPoint { get; }

    /// <summary>True once frames have somewhere to go (a fixed remote, or a datagram arrived).</summary>
    public bool HasPeer => _peer is not null;

    /// <inheritdoc/>
    public long PeerGeneration => Interlocked.Read(ref _generation);

    /// <summary>Bytes waiting in the socket's receive queue (for tests).</summary>
    internal int QueuedBytes => _socket.Available;

    /// <summary>Datagrams received (frames or not).</summary>
    public long ReceivedDatagrams => Interlocked.Read(ref _receivedDatagrams);

    /// <summary>Datagrams sent.</summary>
    public long SentDatagrams => Interlocked.Read(ref _sentDatagrams);

    /// <summary>Binds UDP <paramref name="local"/> (in <paramref name="netns"/> if given) and returns a port sending to <paramref name="remote"/>.</summary>
    /// <param name="local">Where to receive (port 0: any free port, see <see cref="LocalEndPoint"/>).</param>
    /// <param name="remote">Where QEMU receives (its <c>local.*</c>), or null: reply to the last sender.</param>
    /// <param name="netns">The named network namespace whose stack carries the datagrams, or null for the caller's.</param>
    /// <exception cref="TunTapException">The address cannot be bound or the namespace does not exist.</exception>
    public static QemuDgramPort OpenUdp(IPEndPoint local, IPEndPoint? remote = null, string? netns = null)
    {
        ArgumentNullException.ThrowIfNull(local);
        if (remote is not null && remote.AddressFamily != local.AddressFamily)
        {
            throw new TunTapException($"qemu dgram local address {local} and remote {remote} are of different families", "use IPv4 or IPv6 for both");
        }

        var bound = UdpPortSocket.Bind(local, netns, "a qemu dgram port", _ => "pick a free port, or an address of this host");
        var name = $"qemu:dgram:{local}{(netns is null ? "" : "@" + netns)}{(remote is null ? "" : $",remote={remote}")}";
        return new QemuDgramPort(bound, remote, name);
    }

    /// <summary>Binds a Unix datagram socket at <paramref name="path"/> (a leftover socket file there is replaced) and returns a port sending to <paramref name="remotePath"/>.</summary>
    /// <param name="path">The socket path the switch receives on (QEMU's <c>remote.path</c>).</param>
    /// <param name="remotePath">QEMU's socket path (its <c>local.path</c>), or null: reply to the last sender.</param>
    /// <exception cref="TunTapException">The path cannot be bound.</exception>
    public static QemuDgramPort OpenUnix(string path, string? remotePath = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (File.Exists(path))
        {
            if (new FileInfo(path).Length > 0)
            {
                throw new TunTapException($"'{path}' exists and is not a socket", "pick another path");
            }

            File.Delete(path);
        }

        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new TunTapException($"cannot bind unix datagram socket '{path}': {e.Message}", "check that the directory exists and is writable", e);
        }

        var remote = remotePath is null ? null : new UnixDomainSocketEndPoint(remotePath);
        return new QemuDgramPort(socket, remote, $"qemu:dgram:unix:{path}{(remotePath is null ? "" : $",remote={remotePath}")}", path);
    }

    /// <inheritdoc/>
    public ValueTask<int> ReceiveBatchAsync(PacketBatch batch, CancellationToken cancellationToken) =>
        _receiver.ReceiveBatchAsync(batch, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<int> SendBatchAsync(PacketBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var peer = _peer;
        if (peer is null)
        {
            return ValueTask.FromResult(0);
        }

        var sent = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            try
            {
                _socket.SendTo(batch[i], SocketFlags.None, peer);
                sent++;
            }
            catch (SocketException)
            {
                // QEMU not running yet (refused), no route, a full buffer: lost, as on a wire.
                Interlocked.Increment(ref _sendErrors);
            }
        }

        Interlocked.Add(ref _sentDatagrams, sent);
        return ValueTask.FromResult(sent);
    }

    /// <inheritdoc/>
    public void ReadCounters(ICollection<(string Label, long Value)> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        rows.Add(("dgram-rx-datagrams", ReceivedDatagrams));
        rows.Add(("dgram-tx-datagrams", SentDatagrams));
        rows.Add(("dgram-runts", Interlocked.Read(ref _runts)));
        rows.Add(("dgram-send-errors", Interlocked.Read(ref _sendErrors)));
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _socket.Dispose();
            if (_unixPath is not null)
            {
                try
                {
                    File.Delete(_unixPath);
                }
                catch (IOException)
                {
                    // Someone else's now; leave it.
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Counts one datagram and copies it into the batch as a frame (cut to the batch's slot, so an oversized frame reaches the switch as one); learns the sender when there is no fixed remote.</summary>
    private void Accept(PacketBatch batch, ReadOnlySpan<byte> datagram)
    {
        Interlocked.Increment(ref _receivedDatagrams);
        if (datagram.Length < EthernetFrame.UntaggedHeaderLength)
        {
            Interlocked.Increment(ref _runts);
            return;
        }

        if (!_fixedRemote && (_peer is not { } peer || !peer.Equals(_from)))
        {
            // A new peer (QEMU restarted on another port): copy its address, once per change.
            var copy = new SocketAddress(_from.Family, _from.Size);
            _from.Buffer.Span[.._from.Size].CopyTo(copy.Buffer.Span);
            _peer = copy;
            Interlocked.Increment(ref _generation);
        }

        batch.TryAdd(datagram[..Math.Min(datagram.Length, batch.MaxPacketSize)]);
    }
}
