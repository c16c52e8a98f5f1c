namespace TunTap.Switching;

/// <summary>Limits and timers of a <see cref="LearningSwitch"/>.</summary>
public sealed record SwitchOptions
{
    /// <summary>Port ids are 0 to this - 1.</summary>
    public int MaxPorts { get; init; } = 64;

    /// <summary>The most MAC addresses learned at once over all ports (the table's memory is fixed by it).</summary>
    public int MacTableCapacity { get; init; } = 8192;

    /// <summary>The most MAC addresses one port may hold unless its <see cref="SwitchPortConfig.MacLimit"/> says otherwise.</summary>
    public int DefaultPortMacLimit { get; init; } = 1024;

    /// <summary>An address not seen for this long is forgotten (Linux bridges and IEEE 802.1D: 300 s).</summary>
    public TimeSpan MacAgingTime { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>The longest frame accepted, without FCS, tag included (1518: a 1500-byte payload with an 802.1Q tag).</summary>
    public int MaxFrameSize { get; init; } = 1518;

    /// <summary>Loop protection: this many MAC moves onto one port within <see cref="FlapWindow"/> block the port (0: never).</summary>
    public int FlapThreshold { get; init; } = 20;

    /// <summary>The window in which <see cref="FlapThreshold"/> moves are counted.</summary>
    public TimeSpan FlapWindow { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Loop protection: this many broadcast/multicast frames from one port within one second block the port (0: never).</summary>
    public int StormThreshold { get; init; } = 10_000;

    /// <summary>
    /// A port blocked by loop protection forwards again after this long (it is blocked again if the
    /// loop persists); <see cref="TimeSpan.Zero"/>: it stays blocked until unblocked by hand.
    /// </summary>
    public TimeSpan BlockTime { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Receives one line per notable event (a port blocked by loop protection).</summary>
    public Action<string>? Log { get; init; }
}
