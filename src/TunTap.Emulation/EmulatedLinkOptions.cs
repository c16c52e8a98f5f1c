using TunTap.Capture;

namespace TunTap.Emulation;

/// <summary>How an <see cref="EmulatedLink"/> runs: clock, batch sizes, timer precision, captures.</summary>
public sealed record EmulatedLinkOptions
{
    /// <summary>
    /// The clock that stamps arrivals and decides departures. With <see cref="TimeProvider.System"/>
    /// the writers wait precisely (see <see cref="PreciseSleepWindow"/>);
    /// with any other provider (e.g. a FakeTimeProvider in tests) they wait on that provider's timers.
    /// </summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Packets read or written per device call.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>The largest packet read from a device (at least the devices' MTU).</summary>
    public int MaxPacketSize { get; init; } = 1500;

    /// <summary>
    /// With the system clock, how long before a departure the writer stops its wakeable
    /// millisecond-granular wait and sleeps precisely (clock_nanosleep) to the exact time. .NET
    /// waits count whole milliseconds, so without this departures are ~0.5 ms late on average; with
    /// it, about the kernel's timer slack (~50 µs). A packet arriving during that last stretch with an
    /// even earlier departure waits at most this long. Zero: millisecond waits only.
    /// </summary>
    public TimeSpan PreciseSleepWindow { get; init; } = TimeSpan.FromMilliseconds(1);

    /// <summary>Captures what end A's device sends and receives (link type Raw for TUN), or null.</summary>
    public PcapWriter? CaptureA { get; init; }

    /// <summary>Captures what end B's device sends and receives, or null.</summary>
    public PcapWriter? CaptureB { get; init; }

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(TimeProvider);
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPacketSize, 68);
        ArgumentOutOfRangeException.ThrowIfLessThan(PreciseSleepWindow, TimeSpan.Zero);
    }
}
