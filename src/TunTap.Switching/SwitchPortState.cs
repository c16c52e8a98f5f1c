namespace TunTap.Switching;

/// <summary>A port of a <see cref="LearningSwitch"/>: its configuration, counters and loop-protection state.</summary>
internal sealed class SwitchPortState(SwitchPortConfig config, int macLimit)
{
    public SwitchPortConfig Config { get; set; } = config;

    public int MacLimit { get; } = macLimit;

    public SwitchPortCounters Counters { get; } = new();

    public string? BlockReason { get; set; }

    public long FlapWindowStart { get; set; }

    public int FlapCount { get; set; }

    public long StormWindowStart { get; set; }

    public int StormCount { get; set; }
}
