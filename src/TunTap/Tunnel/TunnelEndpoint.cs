using System.Net;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using TunTap.Buffers;
using TunTap.Capture;
using TunTap.Devices;
using TunTap.Netlink;

namespace TunTap.Tunnel;

/// <summary>
/// One end of a point-to-point tunnel: joins a TUN or TAP device to a peer's through a TCP
/// connection or UDP socket (the simpletun/vtun job). The server (<see cref="TunnelOptions.Listen"/>)
/// serves one peer at a time and takes a new one after a disconnect; the client
/// (<see cref="TunnelOptions.Connect"/>) reconnects with exponential backoff and jitter. Both ends
/// exchange a <see cref="TunnelHello"/> first; a mismatch makes both ends fail with
/// <see cref="TunnelMismatchException"/>. Packets read while no peer is connected are dropped
/// (<see cref="TunnelDropReason.LinkDown"/>); a peer sending garbage is disconnected with a logged
/// reason. The data path allocates nothing per packet.
/// </summary>
public sealed partial class TunnelEndpoint
{
    /// <summary>Longest blocking device read before the pump looks at its cancellation token again.</summary>
    private static readonly TimeSpan DeviceWaitSlice = TimeSpan.FromMilliseconds(100);

    private readonly ITunDevice _device;
    private readonly Action<string>? _log;
    private readonly TaskCompletionSource<IPEndPoint> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _fatal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly PcapWriter? _capture;
    private readonly Lock _captureGate = new();
    private PeerLink? _link;
    private int _started;

    /// <summary>Creates the endpoint; nothing happens until <see cref="RunAsync"/>.</summary>
    /// <param name="device">The device whose packets travel through the tunnel.</param>
    /// <param name="options">Role, transport and settings; validated here.</param>
    /// <param name="time">Clock for the reconnect backoff and the UDP keepalive; the system clock by default. (Hello timeouts run on the monotonic clock: the blocking loops wait in <c>poll()</c>.)</param>
    /// <param name="log">Receives one line per connection event (connected, lost, dropped with reason).</param>
    /// <param name="capture">Records every packet read from and written to the device; its link type must match the mode.</param>
    public TunnelEndpoint(ITunDevice device, TunnelOptions options, TimeProvider? time = null, Action<string>? log = null, PcapWriter? capture = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (device.Mode != options.Mode)
        {
            throw new TunTapException($"device {device.Name} is {ModeName(device.Mode)} but the tunnel is configured for {ModeName(options.Mode)}");
        }

        if (device is TunDevice { VnetHeader: var vnet } && vnet != options.VnetHeader)
        {
            throw new TunTapException(
                $"device {device.Name} {(vnet ? "has" : "has no")} virtio-net header but the tunnel is configured {(vnet ? "without" : "with")} one",
                "open the device with TunDeviceOptions.VnetHeader equal to TunnelOptions.VnetHeader");
        }

        _device = device;
        Options = options;
        Time = time ?? TimeProvider.System;
        _log = log;
        // Offloads: over TCP, super packets in frames; over UDP, segments with partial checksums.
        Hello = TunnelHello.For(options.Mode, options.Mtu, options.Compress, offload: options.VnetHeader);
        _capture = capture;
        DeviceQueue = QueueOf(device);
        Writer = new DeviceWriter(device, Counters, this);
    }

    /// <summary>Live counters; safe to read from any thread.</summary>
    public TunnelCounters Counters { get; } = new();

    /// <summary>The settings this endpoint runs with.</summary>
    public TunnelOptions Options { get; }

    /// <summary>Completes with the bound local address once a server endpoint listens (useful with port 0).</summary>
    public Task<IPEndPoint> Listening => _listening.Task;

    /// <summary>The bound port once listening, otherwise 0.</summary>
    public int BoundPort => _listening.Task.IsCompletedSuccessfully ? _listening.Task.Result.Port : 0;

    internal TunnelHello Hello { get; }

    internal TimeProvider Time { get; }

    internal DeviceWriter Writer { get; }

    /// <summary>The device's queue when it is a TUN/TAP queue: then the pump drives a TCP link's both directions (<see cref="TcpPeerLink.Run"/>).</summary>
    internal TunQueue? DeviceQueue { get; }

    /// <summary>
    /// Runs the tunnel until <paramref name="cancellationToken"/> fires, then returns normally.
    /// Throws <see cref="TunnelMismatchException"/> when the peer's settings differ, and
    /// <see cref="TunTapException"/> when it cannot listen.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("a tunnel endpoint runs only once");
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var pump = OnOwnThread(() => PumpDeviceToPeerAsync(stop.Token));
        var peer = (Options.Listen is not null, Options.Transport) switch
        {
            (true, TunnelTransport.Tcp) => ServeTcpAsync(Options.Listen!, stop.Token),
            (true, _) => OnOwnThread(() => ServeUdp(Options.Listen!, stop.Token)),
            (false, TunnelTransport.Tcp) => ConnectTcpAsync(stop.Token),
            (false, _) => ConnectUdpAsync(stop.Token),
        };

        try
        {
            await Task.WhenAny(pump, peer, _fatal.Task).ConfigureAwait(false);
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            var link = Interlocked.Exchange(ref _link, null);
            link?.Close();
            Counters.Disconnected();
            await Task.WhenAll(pump, peer).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            _listening.TrySetCanceled(CancellationToken.None);
            Writer.Dispose();
            lock (_captureGate)
            {
                _capture?.Flush();
            }
        }

        var error = FaultOf(_fatal.Task) ?? FaultOf(peer) ?? FaultOf(pump);
        if (error is not null and not OperationCanceledException)
        {
            ExceptionDispatchInfo.Throw(error);
        }
    }

    internal void Log(string message) => _log?.Invoke(message);

    /// <summary>True when packets are recorded (<see cref="Capture(PacketBatch)"/> needs them whole).</summary>
    internal bool IsCapturing => _capture is not null;

    /// <summary>Writes the batch's packets to the capture, if any (both loops call this, hence the lock).</summary>
    internal void Capture(PacketBatch batch)
    {
        if (_capture is null)
        {
            return;
        }

        var now = Time.GetUtcNow();
        lock (_captureGate)
        {
            for (var i = 0; i < batch.Count; i++)
            {
                WriteCaptured(batch[i], now);
            }
        }
    }

    /// <summary>Writes one packet (with the device's virtio-net header, if it has one) to the capture, if any.</summary>
    internal void Capture(ReadOnlySpan<byte> packet)
    {
        if (_capture is null)
        {
            return;
        }

        var now = Time.GetUtcNow();
        lock (_captureGate)
        {
            WriteCaptured(packet, now);
        }
    }

    /// <summary>The queue blocking calls can use for <paramref name="device"/> (the one its own reads and writes use), or null for another kind of device.</summary>
    internal static TunQueue? QueueOf(ITunDevice device) => device switch
    {
        TunQueue queue => queue,
        TunDevice tun => tun.Queues[0],
        _ => null,
    };

    /// <summary>Makes <paramref name="link"/> the current peer, closing the one it replaces.</summary>
    internal void Publish(PeerLink link)
    {
        var old = Interlocked.Exchange(ref _link, link);
        Counters.Connected(link.Description);
        Log($"peer {link.Description} connected");
        if (old is not null && !ReferenceEquals(old, link))
        {
            Log($"peer {old.Description} replaced by {link.Description}");
            old.Close();
        }
    }

    /// <summary>Clears the current peer if it is still <paramref name="link"/>.</summary>
    internal bool Unpublish(PeerLink link)
    {
        if (ReferenceEquals(Interlocked.CompareExchange(ref _link, null, link), link))
        {
            Counters.Disconnected();
            return true;
        }

        return false;
    }

    /// <summary>Ends <see cref="RunAsync"/> with <paramref name="error"/> (a mismatch found by a server connection).</summary>
    internal void Fail(Exception error) => _fatal.TrySetException(error);

    /// <summary>
    /// Puts a data frame's packet into the next slot of <paramref name="batch"/>, behind a blank
    /// virtio-net header when the device wants one and the frame has none. Drops (and counts) what
    /// does not decode, and offload frames when <paramref name="offloadAgreed"/> is false.
    /// </summary>
    internal void AddData(TunnelFrameHeader header, ReadOnlySpan<byte> payload, PacketBatch batch, bool offloadAgreed)
    {
        Counters.AddRxWire(header.Size + payload.Length);
        var slot = batch.Count;
        var writable = batch.GetWritable(slot);
        var prefix = 0;
        var offload = (header.Flags & TunnelFrameFlags.VnetHeader) != 0;
        if (offload)
        {
            if (!offloadAgreed)
            {
                Counters.AddDropped(TunnelDropReason.Malformed);
                return;
            }
        }
        else if (Options.VnetHeader)
        {
            if (writable.Length < VirtioNetHeader.Size)
            {
                Counters.AddDropped(TunnelDropReason.Oversize);
                return;
            }

            writable[..VirtioNetHeader.Size].Clear();
            prefix = VirtioNetHeader.Size;
        }

        if (!TunnelFrame.TryReadData(header.Flags, payload, writable[prefix..], out var length, out var reason))
        {
            Counters.AddDropped(reason);
            return;
        }

        if ((header.Flags & TunnelFrameFlags.PartialChecksum) != 0)
        {
            // Only a peer told that this end has a virtio-net header sends these.
            if (offload || prefix == 0 || !PartialChecksum.TryFindTcp(Options.Mode, writable.Slice(prefix, length), out var tcp))
            {
                Counters.AddDropped(TunnelDropReason.Malformed);
                return;
            }

            PartialChecksum.HeaderFor(tcp).Write(writable);
        }

        if (offload && length < VirtioNetHeader.Size)
        {
            Counters.AddDropped(TunnelDropReason.Malformed);
            return;
        }

        batch.SetLength(slot, prefix + length);
        batch.Count = slot + 1;
    }

    /// <summary>Packets of the batch (each starting with a virtio-net header) that are super packets.</summary>
    internal static int CountSuperPackets(PacketBatch batch)
    {
        var count = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            var packet = batch[i];
            if (packet.Length > VirtioNetHeader.Field.GsoType && packet[VirtioNetHeader.Field.GsoType] != (byte)VirtioGsoType.None)
            {
                count++;
            }
        }

        return count;
    }

    private void WriteCaptured(ReadOnlySpan<byte> packet, DateTimeOffset now)
    {
        var skip = Options.VnetHeader ? VirtioNetHeader.Size : 0;
        if (packet.Length >= skip)
        {
            _capture!.Write(packet[skip..], now);
        }
    }

    /// <summary>An error that means the connection to the peer broke (not a bug, not a setting).</summary>
    internal static bool IsLinkFailure(Exception error) =>
        error is SocketException or ObjectDisposedException or IOException or SystemCallException;

    private static Exception? FaultOf(Task task) => task.IsFaulted ? task.Exception?.InnerException : null;

    private static string ModeName(DeviceMode mode) => mode == DeviceMode.Tap ? "tap" : "tun";

    /// <summary>
    /// Runs <paramref name="loop"/> on a thread of its own: a data-path loop that blocks in
    /// <c>poll()</c> (a TUN/TAP queue, a <see cref="TcpStream"/>) keeps that thread, and the kernel
    /// wakes it directly.
    /// </summary>
    internal static Task OnOwnThread(Func<Task> loop) =>
        Task.Factory.StartNew(loop, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();

    /// <summary>The same for a loop that is blocking calls from start to end.</summary>
    internal static Task<T> OnOwnThread<T>(Func<T> loop) =>
        Task.Factory.StartNew(loop, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>Counts and captures a batch read from the device, before it goes to the peer.</summary>
    internal void TakeDeviceBatch(PacketBatch batch)
    {
        if (Options.VnetHeader)
        {
            Counters.AddTxOffload(CountSuperPackets(batch));
        }

        Capture(batch);
    }

    private async Task PumpDeviceToPeerAsync(CancellationToken cancellationToken)
    {
        // Long-header headroom: a super packet's frame header is written in front of it, in place.
        using var batch = NewDeviceBatch();
        if (DeviceQueue is { } queue)
        {
            PumpQueue(queue, batch, cancellationToken);
            return;
        }

        while (true)
        {
            if (await _device.ReadBatchAsync(batch, cancellationToken).ConfigureAwait(false) > 0)
            {
                Forward(batch, Volatile.Read(ref _link), cancellationToken);
            }
        }
    }

    /// <summary>A batch for device reads, with room for a long frame header in front of each packet.</summary>
    private PacketBatch NewDeviceBatch() =>
        new(Options.DeviceBatchSize, TunnelFrame.LongHeaderSize + Options.DevicePacketSize, TunnelFrame.LongHeaderSize);

    /// <summary>
    /// The pump on a TUN/TAP queue, with blocking reads on its own thread (no reactor, no pool
    /// thread in between). A TCP link it drives whole (<see cref="TcpPeerLink.Run"/>); otherwise
    /// it reads and sends (or, with no peer, drops). (Over UDP a receive loop driving the device as
    /// well measured slower: 10.0 against 11.8 Gbit/s.)
    /// </summary>
    private void PumpQueue(TunQueue queue, PacketBatch batch, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Volatile.Read(ref _link) is TcpPeerLink tcp)
            {
                tcp.Run(queue, batch, cancellationToken);
                Unpublish(tcp);
                continue;
            }

            if (queue.ReadBatch(batch, DeviceWaitSlice) > 0)
            {
                Forward(batch, Volatile.Read(ref _link), cancellationToken);
            }
        }
    }

    /// <summary>
    /// Counts, captures and sends a batch read from the device. With no peer (or when sending
    /// fails) its packets are dropped as <see cref="TunnelDropReason.LinkDown"/>; a failed link is
    /// unpublished and closed.
    /// </summary>
    private void Forward(PacketBatch batch, PeerLink? link, CancellationToken cancellationToken)
    {
        TakeDeviceBatch(batch);
        if (link is null)
        {
            Counters.AddDropped(TunnelDropReason.LinkDown, batch.Count);
            return;
        }

        try
        {
            link.Send(batch, cancellationToken);
        }
        catch (Exception ex) when (IsLinkFailure(ex)
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            Counters.AddDropped(TunnelDropReason.LinkDown, batch.Count);
            if (Unpublish(link))
            {
                Log($"peer {link.Description} lost: sending failed ({ex.Message})");
                link.Close();
            }
        }
    }

    private async Task<IPEndPoint> ResolveAsync(CancellationToken cancellationToken)
    {
        var connect = Options.Connect!;
        if (IPAddress.TryParse(connect.Host, out var literal))
        {
            return new IPEndPoint(literal, connect.Port);
        }

        var addresses = await Dns.GetHostAddressesAsync(connect.Host, cancellationToken).ConfigureAwait(false);
        if (addresses.Length == 0)
        {
            throw new SocketException((int)SocketError.HostNotFound);
        }

        return new IPEndPoint(addresses[0], connect.Port);
    }

    /// <summary>A socket in <see cref="TunnelOptions.Netns"/> (a socket stays in the namespace it was created in).</summary>
    internal Socket NewSocket(AddressFamily family, SocketType type, ProtocolType protocol) =>
        Options.Netns is { } netns
            ? NetworkNamespace.Run(netns, () => new Socket(family, type, protocol))
            : new Socket(family, type, protocol);

    private Socket Bind(IPEndPoint listen, SocketType type, ProtocolType protocol)
    {
        var socket = NewSocket(listen.AddressFamily, type, protocol);
        try
        {
            if (listen.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            if (type == SocketType.Stream)
            {
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            }

            socket.Bind(listen);
            if (type == SocketType.Stream)
            {
                socket.Listen(16);
            }
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            var error = new TunTapException($"cannot listen on {listen}: {ex.Message}", "pick another port or address (--listen [ADDR:]PORT)", ex);
            _listening.TrySetException(error);
            throw error;
        }

        _listening.TrySetResult((IPEndPoint)socket.LocalEndPoint!);
        return socket;
    }
}
