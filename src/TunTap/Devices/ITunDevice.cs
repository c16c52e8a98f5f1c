using TunTap.Buffers;

namespace TunTap.Devices;

/// <summary>
/// The narrow, batched I/O boundary that protocol code sees: a TUN or TAP device, or an
/// in-memory double in tests. Packets are read into and written from a <see cref="PacketBatch"/>
/// whose buffers keep <see cref="PacketBatch.Headroom"/> bytes free in front of each packet so
/// callers can prepend headers in place.
/// </summary>
public interface ITunDevice : IAsyncDisposable
{
    /// <summary>The interface name, e.g. <c>tun0</c>.</summary>
    string Name { get; }

    /// <summary>TUN (IP packets) or TAP (Ethernet frames).</summary>
    DeviceMode Mode { get; }

    /// <summary>
    /// Waits until at least one packet is available, then reads as many as are ready, up to
    /// the batch's capacity. Returns the number read (also in <see cref="PacketBatch.Count"/>).
    /// </summary>
    ValueTask<int> ReadBatchAsync(PacketBatch batch, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes the first <see cref="PacketBatch.Count"/> packets of the batch. Packets the
    /// kernel rejects (malformed, device down) are counted in the returned value, not thrown.
    /// </summary>
    /// <returns>The number of packets the kernel accepted.</returns>
    ValueTask<int> WriteBatchAsync(PacketBatch batch, CancellationToken cancellationToken = default);
}
