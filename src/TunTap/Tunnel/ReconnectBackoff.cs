namespace TunTap.Tunnel;

/// <summary>
/// Exponential backoff with jitter for reconnecting: the n-th delay is drawn uniformly from
/// [cap/2, cap] where cap = min(max, min * 2^n). Deterministic for a given seed; the waiting uses
/// an injected <see cref="TimeProvider"/>.
/// </summary>
public sealed class ReconnectBackoff
{
    private readonly TimeSpan _min;
    private readonly TimeSpan _max;
    private readonly Random _random;

    /// <summary>Creates the schedule.</summary>
    /// <param name="min">First delay's upper bound.</param>
    /// <param name="max">Largest delay.</param>
    /// <param name="seed">Seed for the jitter.</param>
    public ReconnectBackoff(TimeSpan min, TimeSpan max, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(min, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, min);
        _min = min;
        _max = max;
#pragma warning disable CA5394 // Jitter, not security: a seeded Random keeps runs reproducible.
        _random = new Random(seed);
#pragma warning restore CA5394
    }

    /// <summary>Delays handed out since the last <see cref="Reset"/>.</summary>
    public int Attempt { get; private set; }

    /// <summary>The next delay; each call doubles the cap until it reaches the maximum.</summary>
    public TimeSpan Next()
    {
        var cap = _min.Ticks;
        for (var i = 0; i < Attempt && cap < _max.Ticks; i++)
        {
            cap *= 2;
        }

        cap = Math.Min(cap, _max.Ticks);
        Attempt++;
        var half = cap / 2;
#pragma warning disable CA5394
        return TimeSpan.FromTicks(half + _random.NextInt64(cap - half + 1));
#pragma warning restore CA5394
    }

    /// <summary>Starts over from the minimum (after a successful connection).</summary>
    public void Reset() => Attempt = 0;

    /// <summary>Waits <see cref="Next"/> on <paramref name="time"/>; returns the delay waited.</summary>
    public async Task<TimeSpan> WaitAsync(TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(time);
        var delay = Next();
        await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
        return delay;
    }
}
