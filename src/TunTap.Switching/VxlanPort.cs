using System.Net;
using System.Net.Sockets;
using TunTap.Buffers;
using TunTap.Services;
using TunTap.Wire;

namespace TunTap.Switching;

/// <summary>
/// A switch port that carries frames over VXLAN (RFC 7348) to one or more remote endpoints: every
/// frame leaving the port is sent as one UDP datagram (8-byte VXLAN header with the port's VNI,
/// then the Ethernet frame without FCS); datagrams arriving on the bound UDP socket with the I flag
/// set and the port's VNI become frames, from any source address (as the Linux driver takes them).
/// With several remotes, the port learns which remote each source MAC sits behind (from the
/// datagram's outer source address) and sends unicast frames for it there only; broadcast,
/// multicast and unknown unicast go to every remote (head-end replication). Frames are never
/// relayed from one remote to another (split horizon, as VTEPs expect). Anything else is counted
/// by <see cref="VxlanDropReason"/> and dropped, never thrown. Nothing is allocated per datagram.
/// </summary>
public sealed class VxlanPort : ISwitchPort, IPortCounterSource
{
    private readonly Socket _socket;
    private readonly SocketAddress[] _remotes;
    private readonly byte[][] _remoteAddresses;
    private readonly Dictionary<ulong, int> _remoteOf;
    private readonly Lock _remoteGate = new();
    private readonly SocketAddress _from;
    private readonly DatagramReceiver _receiver;
    private readonly byte[] _sendBuffer;
    private readonly DropCounters<VxlanDropReason> _dropped = new();
    private long _receivedDatagrams;
    private long _sentDatagrams;
    private int _disposed;

    /// <summary>A port over <paramref name="socket"/>, a bound UDP socket the port owns from now on.</summary>
    /// <param name="socket">A bound UDP socket of <paramref name="remote"/>'s address family.</param>
    /// <param name="remote">Where frames are sent.</param>
    /// <param name="vni">The VXLAN Network Identifier sent and accepted (0 to <see cref="VxlanHeader.MaxVni"/>).</param>
    /// <param name="maxFrameSize">The longest frame sent (longer ones are dropped by the switch first).</param>
    /// <param name="name">A name for counters and logs; by default <c>vxlan:REMOTE,vni=N</c>.</param>
    public VxlanPort(Socket socket, IPEndPoint remote, uint vni, int maxFrameSize = 1518, string? name = null)
        : this(socket, [remote], vni, maxFrameSize, name)
    {
    }

    /// <summary>A port over <paramref name="socket"/> sending to <paramref name="remotes"/> (head-end replication for flooding, see the class).</summary>
    /// <param name="socket">A bound UDP socket of the remotes' address family.</param>
    /// <param name="remotes">Where frames are sent: at least one endpoint, all of one address family.</param>
    /// <param name="vni">The VXLAN Network Identifier sent and accepted (0 to <see cref="VxlanHeader.MaxVni"/>).</param>
    /// <param name="maxFrameSize">The longest frame sent (longer ones are dropped by the switch first).</param>
    /// <param name="name">A name for counters and logs; by default <c>vxlan:REMOTE[+REMOTE...],vni=N</c>.</param>
    /// <param name="macCapacity">With several remotes: the most MAC addresses whose remote is remembered (beyond it, frames for others are replicated to every remote).</param>
    public VxlanPort(Socket socket, IReadOnlyList<IPEndPoint> remotes, uint vni, int maxFrameSize = 1518, string? name = null, int macCapacity = 4096)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(remotes);
        ArgumentOutOfRangeException.ThrowIfLessThan(remotes.Count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(vni, VxlanHeader.MaxVni);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFrameSize, EthernetFrame.UntaggedHeaderLength);
        ArgumentOutOfRangeException.ThrowIfLessThan(macCapacity, 1);
        _socket = socket;
        Remotes = [.. remotes];
        Remote = Remotes[0];
        Vni = vni;
        _remotes = new SocketAddress[Remotes.Count];
        _remoteAddresses = new byte[Remotes.Count][];
        for (var i = 0; i < Remotes.Count; i++)
        {
            if (Remotes[i].AddressFamily != Remote.AddressFamily)
            {
                throw new ArgumentException($"remotes {Remote} and {Remotes[i]} are of different address families", nameof(remotes));
            }

            _remotes[i] = Remotes[i].Serialize();
            _remoteAddresses[i] = Remotes[i].Address.GetAddressBytes();
        }

        MacCapacity = macCapacity;
        _remoteOf = new Dictionary<ulong, int>(Remotes.Count > 1 ? macCapacity : 0);
        _from = new SocketAddress(socket.AddressFamily);
        _receiver = new DatagramReceiver(socket, _from, Accept, () => CountDropped(VxlanDropReason.ReceiveError));
        _sendBuffer = new byte[VxlanHeader.HeaderLength + maxFrameSize + LearningSwitch.MaxEgressGrowth];
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        Name = name ?? $"vxlan:{string.Join('+', Remotes)},vni={vni}";
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>Where frames are sent (the first remote, when there are several).</summary>
    public IPEndPoint Remote { get; }

    /// <summary>Every remote frames are sent to.</summary>
    public IReadOnlyList<IPEndPoint> Remotes { get; }

    /// <summary>With several remotes: the most MAC addresses whose remote is remembered.</summary>
    public int MacCapacity { get; }

    /// <summary>The UDP address the port receives on (with port 0 asked: the port the kernel picked).</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>The VXLAN Network Identifier.</summary>
    public uint Vni { get; }

    /// <inheritdoc/>
    public long PeerGeneration => 0;

    /// <summary>Bytes waiting in the socket's receive queue (for tests).</summary>
    internal int QueuedBytes => _socket.Available;

    /// <summary>Datagrams received (valid or not).</summary>
    public long ReceivedDatagrams => Interlocked.Read(ref _receivedDatagrams);

    /// <summary>Datagrams sent.</summary>
    public long SentDatagrams => Interlocked.Read(ref _sentDatagrams);

    /// <summary>Datagrams and frames dropped for any reason.</summary>
    public long Dropped => _dropped.Total;

    /// <summary>Binds a UDP socket (in <paramref name="netns"/> if given) and returns a port sending to <paramref name="remote"/>.</summary>
    /// <param name="remote">The remote VTEP (its port is usually <see cref="VxlanHeader.DefaultPort"/>).</param>
    /// <param name="vni">The VXLAN Network Identifier.</param>
    /// <param name="local">Where to receive; by default every address of the remote's family on port <see cref="VxlanHeader.DefaultPort"/>.</param>
    /// <param name="netns">The named network namespace whose stack carries the datagrams, or null for the caller's.</param>
    /// <param name="maxFrameSize">The longest frame sent.</param>
    /// <exception cref="TunTapException">The address cannot be bound (in use, not local) or the namespace does not exist.</exception>
    public static VxlanPort Open(IPEndPoint remote, uint vni, IPEndPoint? local = null, string? netns = null, int maxFrameSize = 1518)
    {
        ArgumentNullException.ThrowIfNull(remote);
        return Open([remote], vni, local, netns, maxFrameSize);
    }

    /// <summary>Binds a UDP socket (in <paramref name="netns"/> if given) and returns a port sending to <paramref name="remotes"/> (see the class for how several share the work).</summary>
    /// <param name="remotes">The remote VTEPs, all of one address family.</param>
    /// <param name="vni">The VXLAN Network Identifier.</param>
    /// <param name="local">Where to receive; by default every address of the remotes' family on port <see cref="VxlanHeader.DefaultPort"/>.</param>
    /// <param name="netns">The named network namespace whose stack carries the datagrams, or null for the caller's.</param>
    /// <param name="maxFrameSize">The longest frame sent.</param>
    /// <exception cref="TunTapException">No remote, remotes of two families, the address cannot be bound, or the namespace does not exist.</exception>
    public static VxlanPort Open(IReadOnlyList<IPEndPoint> remotes, uint vni, IPEndPoint? local = null, string? netns = null, int maxFrameSize = 1518)
    {
        ArgumentNullException.ThrowIfNull(remotes);
        if (remotes.Count == 0)
        {
            throw new TunTapException("a vxlan port needs a remote", "give vxlan:REMOTE[+REMOTE...]");
        }

        var remote = remotes[0];
        foreach (var other in remotes)
        {
            if (other.AddressFamily != remote.AddressFamily)
            {
                throw new TunTapException($"vxlan remotes {remote} and {other} are of different families", "use IPv4 or IPv6 for all");
            }
        }

        if (vni > VxlanHeader.MaxVni)
        {
            throw new TunTapException($"VNI {vni} is out of range", $"allowed: 0-{VxlanHeader.MaxVni}");
        }

        local ??= new IPEndPoint(remote.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, VxlanHeader.DefaultPort);
        if (local.AddressFamily != remote.AddressFamily)
        {
            throw new TunTapException($"vxlan local address {local} and remote {remote} are of different families", "use IPv4 or IPv6 for both");
        }

        var bound = UdpPortSocket.Bind(local, netns, "a vxlan port", e => e.SocketErrorCode == SocketError.AddressAlreadyInUse
            ? "another VXLAN endpoint (a Linux vxlan device?) uses that port; pick another with local=ADDR:PORT"
            : "give an address of this host (or of the namespace) with local=ADDR:PORT");
        var name = $"vxlan:{string.Join('+', remotes)}{(netns is null ? "" : "@" + netns)},vni={vni}";
        return new VxlanPort(bound, remotes, vni, maxFrameSize, name);
    }

    /// <summary>Datagrams or frames dropped for <paramref name="reason"/>.</summary>
    public long GetDropped(VxlanDropReason reason) => _dropped.Get(reason);

    /// <inheritdoc/>
    public ValueTask<int> ReceiveBatchAsync(PacketBatch batch, CancellationToken cancellationToken) =>
        _receiver.ReceiveBatchAsync(batch, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<int> SendBatchAsync(PacketBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var sent = 0;
        var datagrams = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            var frame = batch[i];
            if (VxlanHeader.HeaderLength + frame.Length > _sendBuffer.Length)
            {
                CountDropped(VxlanDropReason.SendError);
                continue;
            }

            VxlanHeader.Write(_sendBuffer, Vni);
            frame.CopyTo(_sendBuffer.AsSpan(VxlanHeader.HeaderLength));
            var datagram = _sendBuffer.AsSpan(0, VxlanHeader.HeaderLength + frame.Length);
            var copies = 0;
            if (RemoteFor(frame) is var known and >= 0)
            {
                copies += SendTo(datagram, _remotes[known]);
            }
            else
            {
                // Flooding: one copy per remote (head-end replication).
                foreach (var remote in _remotes)
                {
                    copies += SendTo(datagram, remote);
                }
            }

            datagrams += copies;
            sent += copies > 0 ? 1 : 0;
        }

        Interlocked.Add(ref _sentDatagrams, datagrams);
        return ValueTask.FromResult(sent);
    }

    /// <inheritdoc/>
    public void ReadCounters(ICollection<(string Label, long Value)> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        rows.Add(("vxlan-rx-datagrams", ReceivedDatagrams));
        rows.Add(("vxlan-tx-datagrams", SentDatagrams));
        rows.Add(("vxlan-dropped", Dropped));
        DropReasonNames.AddRows<VxlanDropReason>(rows, "vxlan-dropped", GetDropped);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _socket.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>The remote the frame's destination was learned behind, or -1 (flood to all).</summary>
    private int RemoteFor(ReadOnlySpan<byte> frame)
    {
        if (_remotes.Length == 1)
        {
            return 0;
        }

        var destination = MacAddress.Read(frame);
        if (destination.IsMulticast)
        {
            return -1;
        }

        lock (_remoteGate)
        {
            return _remoteOf.TryGetValue(destination.Value, out var index) ? index : -1;
        }
    }

    /// <summary>Remembers that the frame's source sits behind the remote the datagram came from (several remotes only).</summary>
    private void LearnRemote(ReadOnlySpan<byte> frame)
    {
        if (_remotes.Length == 1)
        {
            return;
        }

        var from = RemoteIndexOfSender();
        if (from < 0)
        {
            return;
        }

        var source = MacAddress.Read(frame[MacAddress.Length..]);
        if (source.IsMulticast)
        {
            return;
        }

        lock (_remoteGate)
        {
            if (_remoteOf.Count < MacCapacity || _remoteOf.ContainsKey(source.Value))
            {
                _remoteOf[source.Value] = from;
            }
        }
    }

    /// <summary>Which remote sent the last datagram: by address (VTEPs send from varying source ports), by port too when remotes share an address; -1 for none.</summary>
    private int RemoteIndexOfSender()
    {
        var buffer = _from.Buffer.Span;
        var (offset, length) = _socket.AddressFamily == AddressFamily.InterNetworkV6 ? (8, 16) : (4, 4);
        if (_from.Size < offset + length)
        {
            return -1;
        }

        var address = buffer.Slice(offset, length);
        var port = (buffer[2] << 8) | buffer[3];
        var found = -1;
        for (var i = 0; i < _remotes.Length; i++)
        {
            if (address.SequenceEqual(_remoteAddresses[i]))
            {
                if (Remotes[i].Port == port)
                {
                    return i;
                }

                found = found < 0 ? i : found;
            }
        }

        return found;
    }

    private int SendTo(ReadOnlySpan<byte> datagram, SocketAddress remote)
    {
        try
        {
            _socket.SendTo(datagram, SocketFlags.None, remote);
            return 1;
        }
        catch (SocketException)
        {
            // No route, no neighbour, a full buffer: the frame is lost, as on a wire.
            CountDropped(VxlanDropReason.SendError);
            return 0;
        }
    }

    /// <summary>Validates one datagram and copies its frame into the batch (cut to the batch's slot, so an oversized frame reaches the switch as one and is counted there).</summary>
    private void Accept(PacketBatch batch, ReadOnlySpan<byte> datagram)
    {
        Interlocked.Increment(ref _receivedDatagrams);
        if (!VxlanHeader.TryCreate(datagram, out var header))
        {
            CountDropped(datagram.Length < VxlanHeader.HeaderLength ? VxlanDropReason.Truncated : VxlanDropReason.NoVniFlag);
            return;
        }

        if (header.Vni != Vni)
        {
            CountDropped(VxlanDropReason.WrongVni);
            return;
        }

        var frame = header.ReadOnlyPayload;
        if (frame.Length < EthernetFrame.UntaggedHeaderLength)
        {
            CountDropped(VxlanDropReason.Runt);
            return;
        }

        LearnRemote(frame);
        batch.TryAdd(frame[..Math.Min(frame.Length, batch.MaxPacketSize)]);
    }

    private void CountDropped(VxlanDropReason reason) => _dropped.Count(reason);
}
