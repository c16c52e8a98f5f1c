using System.Security.Cryptography;
using TunTap.WireGuard.Crypto;

namespace TunTap.Tests.WireGuard;

public sealed class TransportKeyTests
{
    private static byte[] Key()
    {
        var key = new byte[32];
        new Random(11).NextBytes(key);
        return key;
    }

    [Fact]
    public void Every_lane_seals_exactly_like_the_shared_cipher()
    {
        using var key = new TransportKey(Key());
        var plain = new byte[1400];
        new Random(3).NextBytes(plain);
        var shared = plain.ToArray();
        var sharedTag = new byte[16];
        key.Seal(42, shared, sharedTag);
        for (var lane = 0; lane < TransportKey.Lanes; lane++)
        {
            var sealedOnLane = plain.ToArray();
            var tag = new byte[16];
            key.Seal(lane, 42, sealedOnLane, tag);
            Assert.Equal(shared, sealedOnLane);
            Assert.Equal(sharedTag, tag);
        }

        Assert.True(key.Open(42, shared, sharedTag));
        Assert.Equal(plain, shared);
    }

    [Fact]
    public async Task Threads_sealing_at_once_on_the_shared_cipher_and_on_lanes_all_get_correct_results()
    {
        using var key = new TransportKey(Key());
        using var reference = new ChaCha20Poly1305(Key());
        var failures = 0;
        async Task SealManyAsync(int lane)
        {
            await Task.Yield();
            var plain = new byte[1300];
            var buffer = new byte[1300];
            var tag = new byte[16];
            var expected = new byte[1300];
            var expectedTag = new byte[16];
            var nonce = new byte[12];
            for (var i = 0; i < 2000; i++)
            {
                var counter = (ulong)((lane + 2) * 100_000 + i);
                plain.AsSpan().Fill((byte)i);
                plain.CopyTo(buffer, 0);
                if (lane < 0)
                {
                    key.Seal(counter, buffer, tag);
                }
                else
                {
                    key.Seal(lane, counter, buffer, tag);
                }

                AeadNonce.Write(counter, nonce);
                lock (reference)
                {
                    reference.Encrypt(nonce, plain, expected, expectedTag);
                }

                if (!buffer.AsSpan().SequenceEqual(expected) || !tag.AsSpan().SequenceEqual(expectedTag))
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }

        await Task.WhenAll(SealManyAsync(-1), SealManyAsync(-1), SealManyAsync(0), SealManyAsync(1));
        Assert.Equal(0, failures);
    }

    [Fact]
    public void Every_lane_opens_what_the_shared_cipher_sealed_and_rejects_a_wrong_tag()
    {
        using var key = new TransportKey(Key());
        var plain = new byte[1400];
        new Random(5).NextBytes(plain);
        for (var lane = 0; lane < TransportKey.Lanes; lane++)
        {
            var buffer = plain.ToArray();
            var tag = new byte[16];
            key.Seal(7, buffer, tag);
            var tampered = buffer.ToArray();
            Assert.True(key.Open(lane, 7, buffer, tag));
            Assert.Equal(plain, buffer);
            tag[3] ^= 1;
            Assert.False(key.Open(lane, 7, tampered, tag));
        }
    }
}
