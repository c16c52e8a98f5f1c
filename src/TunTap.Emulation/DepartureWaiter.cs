namespace TunTap.Emulation;

/// <summary>
/// Puts a link writer to sleep until a departure time or until something new arrives. With the
/// system clock it blocks for whole milliseconds and spins (yielding) through the last
/// <see cref="EmulatedLinkOptions.SpinWindow"/>; with any other clock it waits on that clock's
/// timer, so a fake clock drives it from a test.
/// </summary>
internal sealed class DepartureWaiter : IDisposable
{
    private readonly TimeProvider _time;
    private readonly ManualResetEventSlim _wake = new(false, 0);
    private readonly ITimer? _timer;
    private readonly long _frequency;
    private readonly long _spinTicks;

    public DepartureWaiter(TimeProvider time, TimeSpan spinWindow)
    {
        _time = time;
        _frequency = time.TimestampFrequency;
        _spinTicks = (long)(spinWindow.TotalSeconds * _frequency);
        if (!ReferenceEquals(time, TimeProvider.System))
        {
            _timer = time.CreateTimer(static state => ((ManualResetEventSlim)state!).Set(), _wake, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Forgets earlier wakes; call before deciding how long to sleep, under the same lock as <see cref="Wake"/>'s decision.</summary>
    public void Reset() => _wake.Reset();

    /// <summary>Ends the current or next wait early.</summary>
    public void Wake() => _wake.Set();

    /// <summary>Returns at <paramref name="deadline"/> (a timestamp; <see cref="long.MaxValue"/> for none) or when woken.</summary>
    public void WaitUntil(long deadline)
    {
        if (deadline == long.MaxValue)
        {
            _wake.Wait();
            return;
        }

        if (_timer is not null)
        {
            var remaining = deadline - _time.GetTimestamp();
            if (remaining > 0)
            {
                // Round up: waking a tick early would only schedule another wait.
                var ticks = (remaining * TimeSpan.TicksPerSecond + _frequency - 1) / _frequency;
                _timer.Change(TimeSpan.FromTicks(ticks), Timeout.InfiniteTimeSpan);
                _wake.Wait();
            }

            return;
        }

        var ticksPerMillisecond = _frequency / 1000;
        while (true)
        {
            var remaining = deadline - _time.GetTimestamp();
            if (remaining <= 0 || _wake.IsSet)
            {
                return;
            }

            if (_spinTicks == 0)
            {
                _wake.Wait((int)Math.Min(int.MaxValue, (remaining + ticksPerMillisecond - 1) / ticksPerMillisecond));
                continue;
            }

            var blockMilliseconds = (remaining - _spinTicks) / ticksPerMillisecond;
            if (blockMilliseconds >= 1)
            {
                _wake.Wait((int)Math.Min(int.MaxValue, blockMilliseconds));
                continue;
            }

            // The last stretch: blocking waits overshoot by tens of microseconds or more.
            Thread.Yield();
        }
    }

    public void Dispose()
    {
        _timer?.Dispose();
        _wake.Dispose();
    }
}
