namespace TunTap.Emulation;

/// <summary>
/// Turns a growing byte count into a rate: each <see cref="Sample"/> at least
/// <c>window</c> after the previous measurement computes bits per second over that span; samples in
/// between return the last rate. For live counters.
/// </summary>
public sealed class ThroughputMeter
{
    private readonly long _ticksPerSecond;
    private readonly long _windowTicks;
    private long _lastTicks = long.MinValue;
    private long _lastBytes;

    /// <summary>Measures with timestamps of <paramref name="ticksPerSecond"/> over spans of at least <paramref name="window"/>.</summary>
    public ThroughputMeter(long ticksPerSecond, TimeSpan window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ticksPerSecond, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        _ticksPerSecond = ticksPerSecond;
        _windowTicks = Math.Max(1, (long)(window.TotalSeconds * ticksPerSecond));
    }

    /// <summary>The last measured rate in bits per second.</summary>
    public long BitsPerSecond { get; private set; }

    /// <summary>Records that <paramref name="totalBytes"/> had passed by <paramref name="nowTicks"/>; returns the current rate.</summary>
    public long Sample(long totalBytes, long nowTicks)
    {
        if (_lastTicks == long.MinValue)
        {
            _lastTicks = nowTicks;
            _lastBytes = totalBytes;
            return BitsPerSecond;
        }

        var elapsed = nowTicks - _lastTicks;
        if (elapsed >= _windowTicks)
        {
            BitsPerSecond = (long)((totalBytes - _lastBytes) * 8.0 * _ticksPerSecond / elapsed);
            _lastTicks = nowTicks;
            _lastBytes = totalBytes;
        }

        return BitsPerSecond;
    }
}
