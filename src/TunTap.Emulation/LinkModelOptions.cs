namespace TunTap.Emulation;

/// <summary>
/// Every knob of one direction of an emulated link. Probabilities are fractions (0.01 = 1%). A
/// default instance is a perfect link. <see cref="LinkSpecParser"/> reads these from netem-like text.
/// </summary>
public sealed record LinkModelOptions
{
    /// <summary>Mean one-way delay.</summary>
    public TimeSpan Delay { get; init; }

    /// <summary>Delay variation: the half-width for <see cref="DelayDistribution.Uniform"/>, the standard deviation otherwise.</summary>
    public TimeSpan Jitter { get; init; }

    /// <summary>Correlation of successive delays (0-1).</summary>
    public double DelayCorrelation { get; init; }

    /// <summary>The jitter's distribution.</summary>
    public DelayDistribution Distribution { get; init; }

    /// <summary>Keep packets in order under jitter (otherwise jitter reorders, as netem does).</summary>
    public bool KeepOrder { get; init; }

    /// <summary>Most packets held by the delay line (netem <c>limit</c>).</summary>
    public int Limit { get; init; } = 1000;

    /// <summary>The loss model, or null for none.</summary>
    public LossOptions? Loss { get; init; }

    /// <summary>Duplication probability (0-1).</summary>
    public double Duplicate { get; init; }

    /// <summary>Duplication correlation (0-1).</summary>
    public double DuplicateCorrelation { get; init; }

    /// <summary>Corruption probability (0-1): one bit flipped.</summary>
    public double Corrupt { get; init; }

    /// <summary>Corruption correlation (0-1).</summary>
    public double CorruptCorrelation { get; init; }

    /// <summary>Reorder probability (0-1); needs a <see cref="Delay"/>.</summary>
    public double Reorder { get; init; }

    /// <summary>Reorder correlation (0-1).</summary>
    public double ReorderCorrelation { get; init; }

    /// <summary>Reorder gap (netem <c>gap</c>); 0 with a reorder probability means 1.</summary>
    public int ReorderGap { get; init; }

    /// <summary>Bottleneck rate in bit/s; 0 for none.</summary>
    public long RateBitsPerSecond { get; init; }

    /// <summary>Bytes added to every packet for the rate (may be negative).</summary>
    public int PacketOverhead { get; init; }

    /// <summary>Cell size for the rate (e.g. ATM 53); 0 for none.</summary>
    public int CellSize { get; init; }

    /// <summary>Bytes added per cell.</summary>
    public int CellOverhead { get; init; }

    /// <summary>
    /// Most packets that may wait at the link's output (due out, not yet written to the device):
    /// a cap on what the emulator holds when nothing else (delay line limit, queue) bounds it, so a
    /// source faster than the device writer cannot grow memory without bound. Beyond it packets are
    /// dropped as <see cref="DropReason.OutputFull"/>.
    /// </summary>
    public int OutputLimit { get; init; } = DefaultOutputLimit;

    /// <summary>The default <see cref="OutputLimit"/>: as many packets as a link direction keeps pooled buffers for.</summary>
    public const int DefaultOutputLimit = 4096;

    /// <summary>Bottleneck queue limit in packets; null for the default (see <see cref="DefaultQueueLimitBytes"/>).</summary>
    public int? QueueLimitPackets { get; init; }

    /// <summary>Bottleneck queue limit in bytes; null for the default.</summary>
    public long? QueueLimitBytes { get; init; }

    /// <summary>Drop-tail or CoDel for the bottleneck queue.</summary>
    public QueueDiscipline QueueDiscipline { get; init; }

    /// <summary>CoDel target (RFC 8289 default 5 ms).</summary>
    public TimeSpan CoDelTarget { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>CoDel interval (RFC 8289 default 100 ms).</summary>
    public TimeSpan CoDelInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>netem-style slots, or null.</summary>
    public SlotOptions? Slot { get; init; }

    /// <summary>A Mahimahi link trace as the bottleneck (instead of <see cref="RateBitsPerSecond"/>), or null.</summary>
    public MahimahiTrace? Trace { get; init; }

    /// <summary>Whether the link trace repeats.</summary>
    public bool TraceLoop { get; init; } = true;

    /// <summary>A delay trace applied after the bottleneck, or null.</summary>
    public DelayTrace? DelayTrace { get; init; }

    /// <summary>Whether the delay trace repeats (otherwise it holds its last value).</summary>
    public bool DelayTraceLoop { get; init; } = true;

    /// <summary>
    /// The default drop-tail queue limit: one bandwidth-delay product, the classic buffer size
    /// for a single TCP flow. BDP = rate × RTT with RTT = 2 × one-way delay (the link's delay plus
    /// the delay trace's mean), at least 20 ms; and never less than 16 full-size (1514-byte) packets.
    /// </summary>
    public static long DefaultQueueLimitBytes(double bitsPerSecond, TimeSpan oneWayDelay)
    {
        var rtt = Math.Max(2 * oneWayDelay.TotalSeconds, 0.020);
        return Math.Max((long)(bitsPerSecond / 8 * rtt), 16 * 1514);
    }
}
