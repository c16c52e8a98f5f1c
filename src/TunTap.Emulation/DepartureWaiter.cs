using TunTap.Emulation.Interop;

namespace TunTap.Emulation;

/// <summary>
/// Puts a link writer to sleep until a departure time or until something new arrives. With the
/// system clock it waits (wakeable) in whole milliseconds, then sleeps the last
/// <see cref="EmulatedLinkOptions.PreciseSleepWindow"/> with clock_nanosleep, which wakes within
/// the kernel's timer slack, which the sleeping thread lowers from the default 50 µs to 1 µs the
/// first time (a departure's lateness is what the link model promises away). Spinning instead was measured worse on a loaded machine: a
/// thread that burns or yields its time slice waits behind every other runnable process, while a
/// sleeper is woken first. With any other clock it waits on that clock's timer, so a fake clock
/// drives it from a test.
/// </summary>
internal sealed class DepartureWaiter : IDisposable
{
    private readonly TimeProvider _time;
    private readonly ManualResetEventSlim _wake = new(false, 0);
    private readonly ITimer? _timer;
    private readonly long _frequency;
    private readonly long _preciseTicks;

    public DepartureWaiter(TimeProvider time, TimeSpan preciseWindow)
    {
        _time = time;
        _frequency = time.TimestampFrequency;
        _preciseTicks = (long)(preciseWindow.TotalSeconds * _frequency);
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

            if (_preciseTicks == 0)
            {
                _wake.Wait((int)Math.Min(int.MaxValue, (remaining + ticksPerMillisecond - 1) / ticksPerMillisecond));
                continue;
            }

            var blockMilliseconds = (remaining - _preciseTicks) / ticksPerMillisecond;
            if (blockMilliseconds >= 1)
            {
                _wake.Wait((int)Math.Min(int.MaxValue, blockMilliseconds));
                continue;
            }

            // The last stretch: millisecond waits would overshoot; an arrival due even earlier waits at most this long.
            SleepPrecisely(remaining);
        }
    }

    /// <summary>Set once the calling thread's timer slack is lowered.</summary>
    [ThreadStatic]
    private static bool t_slackLowered;

    private unsafe void SleepPrecisely(long ticks)
    {
        if (!t_slackLowered)
        {
            // Best effort: without it the sleep is just up to 50 µs later.
            _ = Libc.Prctl(Libc.PR_SET_TIMERSLACK, 1000, 0, 0, 0);
            t_slackLowered = true;
        }

        var nanoseconds = (long)((double)ticks * 1e9 / _frequency);
        var request = new Timespec { Seconds = nanoseconds / 1_000_000_000, Nanoseconds = nanoseconds % 1_000_000_000 };

        // EINTR just returns early: the caller's loop looks at the clock again.
        _ = Libc.ClockNanosleep(Libc.CLOCK_MONOTONIC, 0, &request, null);
    }

    public void Dispose()
    {
        _timer?.Dispose();
        _wake.Dispose();
    }
}
