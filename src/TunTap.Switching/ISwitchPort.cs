using TunTap.Buffers;

namespace TunTap.Switching;

/// <summary>
/// Where a switch port's frames come from and go to: a TAP device, a QEMU socket, a VXLAN tunnel.
/// Frames are whole Ethernet frames without FCS, moved in batches. One receiver and one sender
/// may use a port at the same time.
/// </summary>
public interface ISwitchPort : IAsyncDisposable
{
    /// <summary>A name for counters and logs, e.g. <c>tap:vm0</c>.</summary>
    string Name { get; }

    /// <summary>
    /// Changes whenever a different peer is attached (a VM reconnected to a socket port): the
    /// switch then forgets the addresses learned on the port.
    /// </summary>
    long PeerGeneration { get; }

    /// <summary>
    /// Waits until at least one frame arrives, then fills <paramref name="batch"/> with as many as
    /// are ready. Returns the number (also in <see cref="PacketBatch.Count"/>); never 0 unless cancelled.
    /// </summary>
    ValueTask<int> ReceiveBatchAsync(PacketBatch batch, CancellationToken cancellationToken);

    /// <summary>Sends the frames of <paramref name="batch"/>; returns how many the peer took (0 when there is no peer).</summary>
    ValueTask<int> SendBatchAsync(PacketBatch batch, CancellationToken cancellationToken);
}
