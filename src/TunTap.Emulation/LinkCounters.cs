namespace TunTap.Emulation;

/// <summary>
/// What a link did so far. Updated by the link's stages; read by whoever shows live counters.
/// Not thread-safe: read it from the thread that drives the link.
/// </summary>
public sealed class LinkCounters
{
    private readonly long[] _dropped = new long[Enum.GetValues<DropReason>().Length];

    /// <summary>Packets offered to the link.</summary>
    public long Enqueued { get; internal set; }

    /// <summary>Bytes offered to the link.</summary>
    public long EnqueuedBytes { get; internal set; }

    /// <summary>Packets the link delivered (duplicates included).</summary>
    public long Delivered { get; internal set; }

    /// <summary>Bytes the link delivered.</summary>
    public long DeliveredBytes { get; internal set; }

    /// <summary>Extra copies made by duplication.</summary>
    public long Duplicated { get; internal set; }

    /// <summary>Packets that had a bit flipped.</summary>
    public long Corrupted { get; internal set; }

    /// <summary>Packets sent ahead of the others by reordering.</summary>
    public long Reordered { get; internal set; }

    /// <summary>Packets held inside the link now.</summary>
    public long InFlightPackets { get; internal set; }

    /// <summary>Bytes held inside the link now.</summary>
    public long InFlightBytes { get; internal set; }

    /// <summary>Packets waiting in the bottleneck queue now (not counting the one being sent).</summary>
    public long QueuePackets { get; internal set; }

    /// <summary>Bytes waiting in the bottleneck queue now.</summary>
    public long QueueBytes { get; internal set; }

    /// <summary>All packets dropped, whatever the reason.</summary>
    public long DroppedTotal
    {
        get
        {
            long total = 0;
            foreach (var count in _dropped)
            {
                total += count;
            }

            return total;
        }
    }

    /// <summary>Packets dropped for <paramref name="reason"/>.</summary>
    public long Dropped(DropReason reason) => _dropped[(int)reason];

    internal void CountDrop(DropReason reason) => _dropped[(int)reason]++;
}
