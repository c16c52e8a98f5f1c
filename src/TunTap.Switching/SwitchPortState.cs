namespace TunTap.Switching;

/// <summary>A port of a <see cref="LearningSwitch"/>: its configuration, counters and loop-protection state.</summary>
internal sealed class SwitchPortState(SwitchPortConfig config, int macLimit)
{
    public SwitchPortConfig Config { get; set; } = config;

    public int MacLimit { get; } = macLimit;

    public SwitchPortCounters Counters { get; } = new();

    public string? BlockReason { get; set; }

    /// <summary>When loop protection lets the port forward again (a timestamp); long.MaxValue: only by hand.</summary>
    public long BlockedUntil { get; set; } = long.MaxValue;

    /// <summary>How often loop protection blocked the port.</summary>
    public int LoopBlocks { get; set; }

    /// <summary>True for a mirror destination: it only listens.</summary>
    public bool IsMirrorDestination { get; set; }

    public long FlapWindowStart { get; set; }

    public int FlapCount { get; set; }

    public long StormWindowStart { get; set; }

    public int StormCount { get; set; }
}
