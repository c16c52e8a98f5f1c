using TunTap.Devices;

#pragma warning disable CA2012 // These tests inspect ValueTask state on purpose.

namespace TunTap.Tests.Devices;

public sealed class ReadinessSignalTests
{
    [Fact]
    public async Task Wait_completes_when_signalled()
    {
        var signal = new ReadinessSignal();
        var wait = signal.WaitAsync(signal.Sequence, TestContext.Current.CancellationToken);
        Assert.False(wait.IsCompleted);
        signal.Signal();
        await wait.AsTask().WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
    }

    [Fact]
    public void Edge_between_observation_and_wait_is_not_lost()
    {
        var signal = new ReadinessSignal();
        var observed = signal.Sequence;
        signal.Signal(); // arrives after the syscall said EAGAIN, before the wait
        Assert.True(signal.WaitAsync(observed, TestContext.Current.CancellationToken).IsCompletedSuccessfully);
    }

    [Fact]
    public async Task Cancellation_fails_the_wait_and_the_signal_is_reusable()
    {
        var signal = new ReadinessSignal();
        using var cts = new CancellationTokenSource();
        var wait = signal.WaitAsync(signal.Sequence, cts.Token).AsTask();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken));

        var again = signal.WaitAsync(signal.Sequence, TestContext.Current.CancellationToken);
        signal.Signal();
        await again.AsTask().WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
    }

    [Fact]
    public void Cancelled_token_fails_at_once()
    {
        var signal = new ReadinessSignal();
        var wait = signal.WaitAsync(signal.Sequence, new CancellationToken(canceled: true));
        Assert.True(wait.IsCanceled);
    }

    [Fact]
    public async Task Fault_fails_pending_and_later_waits()
    {
        var signal = new ReadinessSignal();
        var wait = signal.WaitAsync(signal.Sequence, TestContext.Current.CancellationToken).AsTask();
        signal.Fault(new ObjectDisposedException("queue"));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => wait.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken));
        Assert.True(signal.WaitAsync(signal.Sequence, TestContext.Current.CancellationToken).IsFaulted);
    }

    [Fact]
    public void Second_concurrent_waiter_is_refused()
    {
        var signal = new ReadinessSignal();
        _ = signal.WaitAsync(signal.Sequence, TestContext.Current.CancellationToken);
        Assert.Throws<InvalidOperationException>(() => signal.WaitAsync(signal.Sequence, TestContext.Current.CancellationToken));
        signal.Signal();
    }

    [Fact]
    public void Waiting_and_signalling_allocates_nothing_in_steady_state()
    {
        var signal = new ReadinessSignal();
        var token = TestContext.Current.CancellationToken;
        CycleSynchronously(signal, 4, token);
        var before = GC.GetAllocatedBytesForCurrentThread();
        CycleSynchronously(signal, 100, token);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static void CycleSynchronously(ReadinessSignal signal, int rounds, CancellationToken token)
    {
        for (var i = 0; i < rounds; i++)
        {
            var wait = signal.WaitAsync(signal.Sequence, token);
            Assert.False(wait.IsCompleted);
            signal.Signal();
            Assert.True(wait.IsCompletedSuccessfully);
            wait.GetAwaiter().GetResult();
        }
    }
}
