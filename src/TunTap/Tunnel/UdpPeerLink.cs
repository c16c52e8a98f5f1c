using System.Net;
using System.Net.Sockets;
using TunTap.Buffers;

namespace TunTap.Tunnel;

/// <summary>
/// The peer over UDP: one datagram per packet. A client link owns its connected socket; a server
/// link shares the listening socket and sends to the peer's address.
/// </summary>
internal sealed class UdpPeerLink : PeerLink
{
    private readonly Socket _socket;
    private readonly SocketAddress? _peer;
    private readonly TunnelEndpoint _endpoint;
    private readonly byte[] _scratch;
    private int _closed;

    /// <summary>Creates a link; <paramref name="peer"/> null means the socket is connected and owned by the link.</summary>
    public UdpPeerLink(Socket socket, SocketAddress? peer, TunnelEndpoint endpoint, string description)
        : base(description)
    {
        _socket = socket;
        _peer = peer;
        _endpoint = endpoint;
        _scratch = new byte[TunnelFrame.HeaderSize + endpoint.Options.MaxPacketSize];
    }

    /// <summary>The peer's address (server links).</summary>
    public SocketAddress? Peer => _peer;

    public override ValueTask SendAsync(PacketBatch batch, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _closed) != 0, this);
        var compress = _endpoint.Options.Compress;
        long bytes = 0;
        long wire = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            var packet = batch[i];
            bytes += packet.Length;
            ReadOnlySpan<byte> frame;
            if (compress && PacketCompressor.TryCompress(packet, _scratch.AsSpan(TunnelFrame.HeaderSize), out var written))
            {
                TunnelFrame.WriteHeader(_scratch, TunnelFrameType.Data, TunnelFrameFlags.Compressed, written);
                frame = _scratch.AsSpan(0, TunnelFrame.HeaderSize + written);
            }
            else
            {
                // The batch keeps HeaderSize bytes of headroom: the header goes in front, no copy.
                var start = batch.Headroom - TunnelFrame.HeaderSize;
                var buffer = batch.GetBuffer(i)[start..];
                TunnelFrame.WriteHeader(buffer, TunnelFrameType.Data, TunnelFrameFlags.None, packet.Length);
                frame = buffer[..(TunnelFrame.HeaderSize + packet.Length)];
            }

            Send(frame);
            wire += frame.Length;
        }

        _endpoint.Counters.AddTx(batch.Count, bytes, wire);
        return ValueTask.CompletedTask;
    }

    public void Send(ReadOnlySpan<byte> frame)
    {
        if (_peer is null)
        {
            _socket.Send(frame, SocketFlags.None);
        }
        else
        {
            _socket.SendTo(frame, SocketFlags.None, _peer);
        }
    }

    public override void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0 || _peer is not null)
        {
            return;
        }

        _socket.Dispose();
    }

    /// <summary>An owned copy of a receive address (which the receive loop reuses).</summary>
    public static SocketAddress Copy(SocketAddress address)
    {
        var copy = new SocketAddress(address.Family, address.Size);
        address.Buffer.Span[..address.Size].CopyTo(copy.Buffer.Span);
        return copy;
    }

    /// <summary>The address as text, e.g. <c>127.0.0.1:40000</c>.</summary>
    public static string Describe(SocketAddress address)
    {
        var template = address.Family == AddressFamily.InterNetworkV6 ? new IPEndPoint(IPAddress.IPv6Any, 0) : new IPEndPoint(IPAddress.Any, 0);
        var endpoint = (IPEndPoint)template.Create(address);
        return endpoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endpoint.Address.MapToIPv4(), endpoint.Port).ToString() : endpoint.ToString();
    }
}
