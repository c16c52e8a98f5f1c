namespace TunTap.TestKit;

/// <summary>Bounded polling: every wait in a test has a deadline.</summary>
public static class Wait
{
    /// <summary>Polls <paramref name="condition"/> every 20 ms until true or <paramref name="timeout"/> passes, then throws with <paramref name="describe"/>.</summary>
    public static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, Func<string>? describe = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"condition not met within {timeout}. {describe?.Invoke()}");
            }

            await Task.Delay(20).ConfigureAwait(false);
        }
    }

    /// <summary>Like <see cref="UntilAsync(Func{bool}, TimeSpan, Func{string}?)"/> with an asynchronous condition.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string>? describe = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition().ConfigureAwait(false))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"condition not met within {timeout}. {describe?.Invoke()}");
            }

            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Like <see cref="UntilAsync(Func{bool}, TimeSpan, Func{string}?)"/> but blocking and without
    /// allocating while it waits (no timers or tasks), for windows in which a test measures
    /// process-wide allocations: a slow machine must not make the wait itself show up.
    /// </summary>
    public static void Until(Func<bool> condition, TimeSpan timeout, Func<string>? describe = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = System.Diagnostics.Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        while (!condition())
        {
            if (System.Diagnostics.Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"condition not met within {timeout}. {describe?.Invoke()}");
            }

            Thread.Sleep(20);
        }
    }
}
