using System.Numerics;

namespace TunTap.Emulation;

/// <summary>
/// The seeded generator behind every random choice of a link (xoshiro256**, seeded through
/// SplitMix64). Its output depends on the seed alone, never on the runtime version, so a seed
/// reproduces an emulation run anywhere.
/// </summary>
public sealed class LinkRandom
{
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

    /// <summary>Creates a generator from <paramref name="seed"/>.</summary>
    public LinkRandom(ulong seed)
    {
        var x = seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    /// <summary>An independent generator for sub-component <paramref name="stream"/> of the same seed.</summary>
    public static LinkRandom ForStream(ulong seed, int stream)
    {
        var x = seed ^ (0xD1B54A32D192ED03UL * (ulong)(stream + 1));
        return new LinkRandom(SplitMix(ref x));
    }

    /// <summary>64 random bits.</summary>
    public ulong NextUInt64()
    {
        var result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>A uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A uniform integer in [0, <paramref name="bound"/>).</summary>
    public int NextInt(int bound)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bound);
        return (int)((NextUInt64() >> 32) * (ulong)bound >> 32);
    }

    /// <summary>A uniform long in [0, <paramref name="bound"/>).</summary>
    public long NextLong(long bound)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bound);
        return (long)Math.BigMul(NextUInt64(), (ulong)bound, out _);
    }

    private static ulong SplitMix(ref ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        var z = x;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
