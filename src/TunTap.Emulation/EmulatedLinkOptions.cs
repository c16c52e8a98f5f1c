using TunTap.Capture;

namespace TunTap.Emulation;

/// <summary>How an <see cref="EmulatedLink"/> runs: clock, batch sizes, timer precision, captures.</summary>
public sealed record EmulatedLinkOptions
{
    /// <summary>
    /// The clock that stamps arrivals and decides departures. With <see cref="TimeProvider.System"/>
    /// the writers wait precisely (a blocking wait, then a short spin, see <see cref="SpinWindow"/>);
    /// with any other provider (e.g. a FakeTimeProvider in tests) they wait on that provider's timers.
    /// </summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Packets read or written per device call.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>The largest packet read from a device (at least the devices' MTU).</summary>
    public int MaxPacketSize { get; init; } = 1500;

    /// <summary>
    /// With the system clock, how long before a departure the writer stops blocking and spins
    /// (yielding the CPU on every turn) until the exact time. Blocking waits on Linux wake about
    /// 50-100 µs after a whole millisecond, so 1 ms of spin turns ~1 ms of lateness into a few
    /// microseconds. Zero disables spinning: no busy CPU, ~1 ms late on average.
    /// </summary>
    public TimeSpan SpinWindow { get; init; } = TimeSpan.FromMilliseconds(1);

    /// <summary>Captures what end A's device sends and receives (link type Raw for TUN), or null.</summary>
    public PcapWriter? CaptureA { get; init; }

    /// <summary>Captures what end B's device sends and receives, or null.</summary>
    public PcapWriter? CaptureB { get; init; }

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(TimeProvider);
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPacketSize, 68);
        ArgumentOutOfRangeException.ThrowIfLessThan(SpinWindow, TimeSpan.Zero);
    }
}
