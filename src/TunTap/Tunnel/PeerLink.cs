using TunTap.Buffers;

namespace TunTap.Tunnel;

/// <summary>The current way to the peer: what the device-to-peer pump sends a batch through.</summary>
internal abstract class PeerLink : IDisposable
{
    protected PeerLink(string description)
    {
        Description = description;
    }

    /// <summary>The peer's address, for logs and <see cref="TunnelCounters.Peer"/>.</summary>
    public string Description { get; }

    /// <summary>Sends every packet of the batch (packets start at the batch headroom) with blocking calls; throws when the link broke.</summary>
    public abstract void Send(PacketBatch batch, CancellationToken cancellationToken);

    /// <summary>Ends the link: its receive loop stops. Safe to call more than once, from any thread.</summary>
    public abstract void Close();

    public void Dispose() => Close();
}
