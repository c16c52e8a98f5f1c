using Microsoft.Extensions.Time.Testing;
using TunTap.Tunnel;

namespace TunTap.Tests.Tunnel;

public sealed class ReconnectBackoffTests
{
    private static readonly TimeSpan Min = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(5);

    [Fact]
    public void Delays_double_with_jitter_up_to_the_maximum()
    {
        var backoff = new ReconnectBackoff(Min, Max, seed: 1);
        var cap = Min;
        for (var i = 0; i < 12; i++)
        {
            var delay = backoff.Next();
            Assert.InRange(delay, cap / 2, cap);
            cap = cap * 2 > Max ? Max : cap * 2;
        }

        Assert.InRange(backoff.Next(), Max / 2, Max);
    }

    [Fact]
    public void Same_seed_gives_same_delays_and_other_seeds_differ()
    {
        static List<TimeSpan> Run(int seed)
        {
            var backoff = new ReconnectBackoff(Min, Max, seed);
            return [.. Enumerable.Range(0, 10).Select(_ => backoff.Next())];
        }

        Assert.Equal(Run(42), Run(42));
        Assert.NotEqual(Run(42), Run(43));
    }

    [Fact]
    public void Reset_starts_over_from_the_minimum()
    {
        var backoff = new ReconnectBackoff(Min, Max, seed: 3);
        for (var i = 0; i < 8; i++)
        {
            backoff.Next();
        }

        backoff.Reset();
        Assert.Equal(0, backoff.Attempt);
        Assert.InRange(backoff.Next(), Min / 2, Min);
    }

    [Fact]
    public async Task Wait_completes_only_when_the_fake_clock_passes_the_delay()
    {
        var time = new FakeTimeProvider();
        var expected = new ReconnectBackoff(Min, Max, seed: 9).Next();
        var backoff = new ReconnectBackoff(Min, Max, seed: 9);
        var wait = backoff.WaitAsync(time, TestContext.Current.CancellationToken);
        time.Advance(expected - TimeSpan.FromMilliseconds(1));
        await Task.Delay(20, TestContext.Current.CancellationToken);
        Assert.False(wait.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(expected, await wait.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken));
    }
}
