using CsCheck;
using TunTap.WireGuard.Transport;

namespace TunTap.Tests.WireGuard;

public sealed class ReplayWindowTests
{
    // The specification in its plainest form: every counter once, and none more than WindowSize
    // behind the highest accepted.
    private sealed class NaiveWindow
    {
        private readonly HashSet<ulong> _seen = [];
        private ulong _highest;

        public bool TryAccept(ulong counter)
        {
            if (counter >= ReplayWindow.RejectAfterMessages || _seen.Contains(counter))
            {
                return false;
            }

            if (counter < _highest && _highest - counter > ReplayWindow.WindowSize)
            {
                return false;
            }

            _seen.Add(counter);
            _highest = Math.Max(_highest, counter);
            return true;
        }
    }

    [Fact]
    public void Accepts_each_counter_once_in_any_order_within_the_window()
    {
        var window = new ReplayWindow();
        Assert.True(window.TryAccept(0));
        Assert.False(window.TryAccept(0));
        Assert.True(window.TryAccept(5));
        Assert.True(window.TryAccept(3));
        Assert.False(window.TryAccept(3));
        Assert.True(window.TryAccept(8200));
        Assert.Equal(8200ul, window.Highest);
        Assert.True(window.TryAccept(8200 - 8128));   // exactly WindowSize behind
        Assert.False(window.TryAccept(8200 - 8129));  // one more: too old
        Assert.False(window.TryAccept(5));            // too old now, even though seen before
    }

    [Fact]
    public void A_jump_far_ahead_forgets_the_whole_ring()
    {
        var window = new ReplayWindow();
        for (ulong i = 0; i < 300; i++)
        {
            Assert.True(window.TryAccept(i));
        }

        Assert.True(window.TryAccept(1_000_000));
        Assert.True(window.TryAccept(1_000_000 - 100));
        Assert.True(window.TryAccept(1_000_000 - 8128));
        Assert.False(window.TryAccept(299));
    }

    [Fact]
    public void Counters_at_the_limit_are_rejected()
    {
        var window = new ReplayWindow();
        Assert.True(window.TryAccept(ReplayWindow.RejectAfterMessages - 1));
        Assert.False(window.TryAccept(ReplayWindow.RejectAfterMessages));
        Assert.False(window.TryAccept(ulong.MaxValue));
        window.Reset();
        Assert.True(window.TryAccept(0));
    }

    [Fact]
    public void Matches_a_naive_set_on_random_counter_streams()
    {
        // Mostly increasing counters with reordering, duplicates and jumps of various sizes.
        var step = Gen.OneOf(Gen.Long[-9000, 20], Gen.Long[0, 3], Gen.Long[0, 70_000], Gen.Const(0L));
        Gen.Select(Gen.ULong[0, 100_000], step.Array[1, 600]).Sample((start, steps) =>
        {
            var window = new ReplayWindow();
            var naive = new NaiveWindow();
            var counter = start;
            foreach (var delta in steps)
            {
                counter = delta < 0 && (ulong)(-delta) > counter ? 0 : (ulong)((long)counter + delta);
                Assert.Equal(naive.TryAccept(counter), window.TryAccept(counter));
            }
        }, iter: 300);
    }

    [Fact]
    public void Matches_a_naive_set_near_the_reject_limit()
    {
        Gen.Int[0, 12_000].Array[1, 200].Sample(offsets =>
        {
            var window = new ReplayWindow();
            var naive = new NaiveWindow();
            foreach (var offset in offsets)
            {
                var counter = ReplayWindow.RejectAfterMessages + 100 - (ulong)offset;
                Assert.Equal(naive.TryAccept(counter), window.TryAccept(counter));
            }
        }, iter: 200);
    }
}
