namespace TunTap.Emulation.Logging;

/// <summary>What one direction of a logged link did over time (see <see cref="LinkLogTimeline"/>): the data behind Mahimahi-style graphs.</summary>
public sealed class LinkDirectionTimeline
{
    internal LinkDirectionTimeline(string direction) => Direction = direction;

    /// <summary>The direction's name in the log, e.g. <c>a-&gt;b</c>.</summary>
    public string Direction { get; }

    /// <summary>Start of each interval, in seconds from the log's start.</summary>
    public IReadOnlyList<double> IntervalStartSeconds { get; internal set; } = [];

    /// <summary>Departures per interval, in Mbit/s.</summary>
    public IReadOnlyList<double> DeliveredMbps { get; internal set; } = [];

    /// <summary>Arrivals per interval (what the sender offered), in Mbit/s.</summary>
    public IReadOnlyList<double> OfferedMbps { get; internal set; } = [];

    /// <summary>Departure time of each delivered packet whose arrival is in the log, in seconds.</summary>
    public IReadOnlyList<double> DelaySeconds { get; internal set; } = [];

    /// <summary>The matching per-packet delays (queueing plus propagation: departure minus arrival), in milliseconds.</summary>
    public IReadOnlyList<double> DelayMilliseconds { get; internal set; } = [];

    /// <summary>Time of each queue sample (every event), in seconds.</summary>
    public IReadOnlyList<double> QueueSeconds { get; internal set; } = [];

    /// <summary>Bytes in the bottleneck queue at each sample.</summary>
    public IReadOnlyList<double> QueueBytes { get; internal set; } = [];

    /// <summary>Packets the direction held (in its stages and at its output) at each sample.</summary>
    public IReadOnlyList<double> HeldPackets { get; internal set; } = [];

    /// <summary>Arrivals in the log.</summary>
    public long Arrivals { get; internal set; }

    /// <summary>Departures in the log.</summary>
    public long Departures { get; internal set; }

    /// <summary>Drops in the log.</summary>
    public long Drops { get; internal set; }
}
