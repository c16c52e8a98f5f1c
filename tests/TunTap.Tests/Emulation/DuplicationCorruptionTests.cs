using TunTap.Emulation;
using static TunTap.Tests.Emulation.LinkHarness;

namespace TunTap.Tests.Emulation;

public sealed class DuplicationCorruptionTests
{
    private const int Samples = 100_000;

    [Fact]
    public void Duplication_rate_is_within_three_sigma_and_copies_are_identical()
    {
        var model = Create(new LinkModelOptions { Duplicate = 0.05 });
        var delivered = Run(model, Periodic(Samples, 10, size: 40), keepBytes: true);
        var duplicates = delivered.Count - Samples;
        var sigma = Math.Sqrt(Samples * 0.05 * 0.95);
        Assert.InRange(duplicates, (Samples * 0.05) - (3 * sigma), (Samples * 0.05) + (3 * sigma));
        Assert.Equal(duplicates, model.Counters.Duplicated);
        var expected = Enumerable.Range(0, 40).Select(i => (byte)(i * 7)).ToArray();
        Assert.All(delivered, d => Assert.Equal(expected, d.Bytes));
    }

    [Fact]
    public void Duplicates_get_their_own_delay()
    {
        var model = Create(new LinkModelOptions { Duplicate = 1, Delay = TimeSpan.FromMilliseconds(20), Jitter = TimeSpan.FromMilliseconds(5) });
        var delivered = Run(model, Periodic(100, Ms(100)));
        Assert.Equal(200, delivered.Count);
        var pairs = delivered.GroupBy(d => d.Arrival).Select(g => g.Select(d => d.Departure).ToArray()).ToArray();
        Assert.Contains(pairs, p => p[0] != p[1]);
    }

    [Fact]
    public void Corruption_flips_exactly_one_bit_at_the_configured_rate()
    {
        var model = Create(new LinkModelOptions { Corrupt = 0.05 });
        var delivered = Run(model, Periodic(Samples, 10, size: 64), keepBytes: true);
        var original = Enumerable.Range(0, 64).Select(i => (byte)(i * 7)).ToArray();
        var corrupted = 0;
        foreach (var d in delivered)
        {
            var flipped = 0;
            for (var i = 0; i < 64; i++)
            {
                flipped += System.Numerics.BitOperations.PopCount((uint)(d.Bytes[i] ^ original[i]));
            }

            Assert.InRange(flipped, 0, 1);
            corrupted += flipped;
        }

        var sigma = Math.Sqrt(Samples * 0.05 * 0.95);
        Assert.InRange(corrupted, (Samples * 0.05) - (3 * sigma), (Samples * 0.05) + (3 * sigma));
        Assert.Equal(corrupted, model.Counters.Corrupted);
    }

    [Fact]
    public void Corruption_fixup_chooses_the_region_and_sees_every_corrupted_packet()
    {
        var fixup = new PayloadOnlyFixup(20);
        var model = LinkModel.Create(new LinkModelOptions { Corrupt = 1 }, Frequency, 0, 5, fixup);
        var delivered = Run(model, Periodic(2000, 10, size: 60), keepBytes: true);
        var original = Enumerable.Range(0, 60).Select(i => (byte)(i * 7)).ToArray();
        Assert.All(delivered, d => Assert.Equal(original.AsSpan(0, 20).ToArray(), d.Bytes.AsSpan(0, 20).ToArray()));
        Assert.Equal(2000, fixup.Calls);
    }

    private sealed class PayloadOnlyFixup(int headerLength) : ICorruptionFixup
    {
        public int Calls { get; private set; }

        public Range SelectRegion(ReadOnlySpan<byte> packet) => headerLength..;

        public void AfterCorruption(Span<byte> packet) => Calls++;
    }
}
