namespace TunTap.Switching;

/// <summary>How a <see cref="SwitchRunner"/> moves frames.</summary>
public sealed record SwitchRunnerOptions
{
    /// <summary>The most frames read or written per port in one batch.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Frames waiting per egress port; beyond it frames are dropped (<see cref="SwitchDropReason.QueueFull"/>).</summary>
    public int EgressQueueLength { get; init; } = 256;

    /// <summary>Receives a line per notable event (port failures, QEMU connections).</summary>
    public Action<string>? Log { get; init; }
}
