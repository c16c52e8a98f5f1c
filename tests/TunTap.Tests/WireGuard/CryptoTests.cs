using System.Text;
using TunTap.WireGuard.Crypto;

namespace TunTap.Tests.WireGuard;

public sealed class CryptoTests
{
    private static byte[] Hex(string hex) => Convert.FromHexString(hex);

    private static string ToHex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    [Fact]
    public void Blake2s_matches_rfc7693_abc_vector()
    {
        var output = new byte[32];
        Blake2s.Hash("abc"u8, output);
        Assert.Equal("508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982", ToHex(output));
    }

    [Fact]
    public void Blake2s_hash_of_two_parts_equals_hash_of_concatenation()
    {
        var whole = new byte[32];
        var parts = new byte[32];
        Blake2s.Hash("abcdef"u8, whole);
        Blake2s.Hash("ab"u8, "cdef"u8, parts);
        Assert.Equal(whole, parts);
    }

    [Fact]
    public void Blake2s_hash_of_three_parts_equals_hash_of_concatenation()
    {
        var whole = new byte[32];
        var parts = new byte[32];
        Blake2s.Hash("abcdefgh"u8, whole);
        Blake2s.Hash("ab"u8, "cdef"u8, "gh"u8, parts);
        Assert.Equal(whole, parts);
    }

    // Each thread keeps keyed digests for the last few MAC keys: cycling through more keys than it
    // keeps, and coming back to them, must give what a fresh BouncyCastle digest gives.
    [Fact]
    public void Blake2s_mac_stays_right_while_more_keys_alternate_than_are_kept()
    {
        var keys = Enumerable.Range(0, 7).Select(k => Enumerable.Range(0, k == 6 ? 16 : 32).Select(i => (byte)((k * 37) + i)).ToArray()).ToArray();
        var message = Enumerable.Range(0, 116).Select(i => (byte)i).ToArray();
        for (var round = 0; round < 3; round++)
        {
            foreach (var index in new[] { 0, 1, 0, 2, 3, 4, 5, 6, 1, 6, 0 })
            {
                var expected = new byte[16];
                var fresh = new Org.BouncyCastle.Crypto.Digests.Blake2sDigest(keys[index], 16, null, null);
                fresh.BlockUpdate(message, 0, message.Length);
                fresh.DoFinal(expected, 0);

                var mac = new byte[16];
                Blake2s.Mac(keys[index], message.AsSpan(0, 100 + index), mac);
                var prefix = new byte[16];
                var freshPrefix = new Org.BouncyCastle.Crypto.Digests.Blake2sDigest(keys[index], 16, null, null);
                freshPrefix.BlockUpdate(message, 0, 100 + index);
                freshPrefix.DoFinal(prefix, 0);
                Assert.Equal(prefix, mac);

                Blake2s.Mac(keys[index], message, mac);
                Assert.Equal(expected, mac);
            }
        }
    }

    [Fact]
    public async Task Blake2s_hmac_and_mac_agree_across_threads_running_at_once()
    {
        var key = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var message = Enumerable.Range(0, 64).Select(i => (byte)i).ToArray();
        var expectedHmac = new byte[32];
        HmacBlake2s.Compute("super secret key"u8, "hello noise"u8, expectedHmac);

        var tasks = Enumerable.Range(0, 6).Select(_ => Task.Factory.StartNew(
            () =>
            {
                var mismatches = 0;
                var hmac = new byte[32];
                var mac = new byte[16];
                for (var i = 0; i < 500; i++)
                {
                    HmacBlake2s.Compute("super secret key"u8, "hello noise"u8, hmac);
                    Blake2s.Mac(key, message, mac);
                    if (!hmac.AsSpan().SequenceEqual(expectedHmac) || ToHex(mac) != "f1efa90d2547036841ecd3627fafbc36")
                    {
                        mismatches++;
                    }
                }

                return mismatches;
            },
            TestContext.Current.CancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)).ToArray();

        var results = await Task.WhenAll(tasks);
        Assert.All(results, mismatches => Assert.Equal(0, mismatches));
    }

    // The published WireGuard constants: HASH(construction) and HASH(ck || identifier).
    [Fact]
    public void Blake2s_reproduces_wireguard_initial_chaining_key_and_hash()
    {
        var chainingKey = new byte[32];
        Blake2s.Hash("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"u8, chainingKey);
        Assert.Equal("60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36", ToHex(chainingKey));
        var hash = new byte[32];
        Blake2s.Hash(chainingKey, "WireGuard v1 zx2c4 Jason@zx2c4.com"u8, hash);
        Assert.Equal("2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3", ToHex(hash));
    }

    // Reference values from CPython's hashlib (the BLAKE2 reference implementation).
    [Fact]
    public void Blake2s_keyed_mac_is_16_bytes_and_matches_reference()
    {
        var key = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var message = Enumerable.Range(0, 64).Select(i => (byte)i).ToArray();
        var mac = new byte[16];
        Blake2s.Mac(key, message, mac);
        Assert.Equal("f1efa90d2547036841ecd3627fafbc36", ToHex(mac));
    }

    [Fact]
    public void HmacBlake2s_matches_reference()
    {
        var output = new byte[32];
        HmacBlake2s.Compute("super secret key"u8, "hello noise"u8, output);
        Assert.Equal("750fd5a6f6d0d915f3a67537105d4dcb5e6377ac83113c56db3a808538db8da2", ToHex(output));
    }

    [Fact]
    public void HmacBlake2s_hashes_keys_longer_than_a_block()
    {
        var key = Enumerable.Range(0, 100).Select(i => (byte)i).ToArray();
        var output = new byte[32];
        HmacBlake2s.Compute(key, "x"u8, output);
        Assert.Equal("7c5a4a1c1150b1eadcba56974986fd860c4aca9cd69fa0c65c9f67dadad9883a", ToHex(output));
    }

    [Fact]
    public void Kdf_1_2_3_match_reference_and_are_prefixes_of_each_other()
    {
        var key = Hex("60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36");
        var input = Hex("0102030405060708090a");
        byte[] a = new byte[32], b = new byte[32], c = new byte[32];
        Kdf.Derive(key, input, a, b, c);
        Assert.Equal("7b9e91f1ba1955019211909ea96be3f7dd912c34dd5b7d2fb7635b3131bbbee8", ToHex(a));
        Assert.Equal("c8ebb4faa815ad7d55641b12092db89cdb96b207936b0097b85566c353dd2f9b", ToHex(b));
        Assert.Equal("faee76cb2abbc110ae7e53278b430cb3d2dd633624f655044a5214dac17cec72", ToHex(c));

        byte[] one = new byte[32], twoA = new byte[32], twoB = new byte[32];
        Kdf.Derive(key, input, one);
        Kdf.Derive(key, input, twoA, twoB);
        Assert.Equal(a, one);
        Assert.Equal(a, twoA);
        Assert.Equal(b, twoB);
    }

    [Fact]
    public void Kdf_output_may_overwrite_its_key()
    {
        var key = Hex("60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36");
        var expected = new byte[32];
        Kdf.Derive(key, "in"u8, expected);
        Kdf.Derive(key, "in"u8, key);
        Assert.Equal(expected, key);
    }

    [Fact]
    public void X25519_matches_rfc7748_vectors()
    {
        var alice = Hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        var bob = Hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
        var alicePublic = new byte[32];
        var bobPublic = new byte[32];
        Curve25519.DerivePublicKey(alice, alicePublic);
        Curve25519.DerivePublicKey(bob, bobPublic);
        Assert.Equal("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", ToHex(alicePublic));
        Assert.Equal("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", ToHex(bobPublic));

        var shared1 = new byte[32];
        var shared2 = new byte[32];
        Assert.True(Curve25519.TryAgree(alice, bobPublic, shared1));
        Assert.True(Curve25519.TryAgree(bob, alicePublic, shared2));
        Assert.Equal("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", ToHex(shared1));
        Assert.Equal(shared1, shared2);
    }

    [Fact]
    public void X25519_refuses_low_order_public_keys()
    {
        var alice = Hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        var shared = new byte[32];
        Assert.False(Curve25519.TryAgree(alice, new byte[32], shared));
        var one = new byte[32];
        one[0] = 1;
        Assert.False(Curve25519.TryAgree(alice, one, shared));
    }

    [Fact]
    public void Generated_private_keys_are_clamped()
    {
        var counter = 0;
        for (var i = 0; i < 16; i++)
        {
            var key = new byte[32];
            Curve25519.GeneratePrivateKey(key, span => span.Fill((byte)(0xff - counter++)));
            Assert.Equal(0, key[0] & 7);
            Assert.Equal(0, key[31] & 128);
            Assert.Equal(64, key[31] & 64);
        }
    }

    // Reference: OpenSSL via Python's cryptography with nonce 00000000 || LE64(counter).
    [Fact]
    public void ChaChaPoly_uses_wireguard_counter_nonce_layout()
    {
        var key = Enumerable.Range(0x20, 32).Select(i => (byte)i).ToArray();
        var plaintext = Encoding.ASCII.GetBytes("WireGuard data packet");
        var output = new byte[plaintext.Length + 16];
        ChaChaPoly.Seal(key, 0x0102030405060708, plaintext, "ad"u8, output);
        Assert.Equal("6b6d6557dde1ac60a4b6c5a7ae9302eb14695492d53412d6e2287d990a73fedf6846688b28", ToHex(output));

        var empty = new byte[16];
        ChaChaPoly.Seal(key, 0, [], [], empty);
        Assert.Equal("28e692e774485eb5a8268f2b98ad4aec", ToHex(empty));

        var opened = new byte[plaintext.Length];
        Assert.True(ChaChaPoly.Open(key, 0x0102030405060708, output, "ad"u8, opened));
        Assert.Equal(plaintext, opened);
        Assert.False(ChaChaPoly.Open(key, 0x0102030405060709, output, "ad"u8, opened));
        Assert.False(ChaChaPoly.Open(key, 0x0102030405060708, output, "ae"u8, opened));
    }

    [Fact]
    public void TransportKey_encrypts_in_place_like_the_one_shot_aead()
    {
        var key = Enumerable.Range(0x20, 32).Select(i => (byte)i).ToArray();
        var buffer = new byte[21 + 16];
        Encoding.ASCII.GetBytes("WireGuard data packet").CopyTo(buffer, 0);
        using var transport = new TransportKey(key);
        transport.Seal(7, buffer.AsSpan(0, 21), buffer.AsSpan(21));

        var expected = new byte[37];
        ChaChaPoly.Seal(key, 7, Encoding.ASCII.GetBytes("WireGuard data packet"), [], expected);
        Assert.Equal(expected, buffer);

        Assert.True(transport.Open(7, buffer.AsSpan(0, 21), buffer.AsSpan(21)));
        Assert.Equal("WireGuard data packet", Encoding.ASCII.GetString(buffer, 0, 21));

        transport.Seal(8, buffer.AsSpan(0, 21), buffer.AsSpan(21));
        buffer[3] ^= 1;
        Assert.False(transport.Open(8, buffer.AsSpan(0, 21), buffer.AsSpan(21)));
    }

    [Fact]
    public void TransportKey_allocates_nothing_per_packet()
    {
        var key = new byte[32];
        var buffer = new byte[1500];
        using var transport = new TransportKey(key);
        transport.Seal(0, buffer.AsSpan(0, 1400), buffer.AsSpan(1400));
        transport.Open(0, buffer.AsSpan(0, 1400), buffer.AsSpan(1400));
        transport.Seal(0, 0, buffer.AsSpan(0, 1400), buffer.AsSpan(1400));
        transport.Open(TransportKey.ReceiveLane, 0, buffer.AsSpan(0, 1400), buffer.AsSpan(1400));
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (ulong i = 1; i < 200; i++)
        {
            transport.Seal(i, buffer.AsSpan(0, 1400), buffer.AsSpan(1400));
            Assert.True(transport.Open(i, buffer.AsSpan(0, 1400), buffer.AsSpan(1400)));
            transport.Seal(0, i, buffer.AsSpan(0, 1400), buffer.AsSpan(1400));
            Assert.True(transport.Open(TransportKey.ReceiveLane, i, buffer.AsSpan(0, 1400), buffer.AsSpan(1400)));
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    // draft-irtf-cfrg-xchacha-03 §A.3.1, and NSec (the wrapper the project's rules name) must give
    // the same bytes: our direct libsodium call passes key, nonce and data in the right places.
    [Fact]
    public void XChaChaPoly_matches_the_draft_vector_and_nsec()
    {
        var key = Hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
        var nonce = Hex("404142434445464748494a4b4c4d4e4f5051525354555657");
        var associatedData = Hex("50515253c0c1c2c3c4c5c6c7");
        var plaintext = Encoding.ASCII.GetBytes("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
        var sealedText = new byte[plaintext.Length + XChaChaPoly.TagSize];
        XChaChaPoly.Seal(key, nonce, plaintext, associatedData, sealedText);
        Assert.Equal("c0875924c1c7987947deafd8780acf49", ToHex(sealedText.AsSpan(plaintext.Length)));
        Assert.StartsWith("bd6d179d3e83d43b9576579493c0e939", ToHex(sealedText), StringComparison.Ordinal);

        using var nsecKey = NSec.Cryptography.Key.Import(NSec.Cryptography.AeadAlgorithm.XChaCha20Poly1305, key, NSec.Cryptography.KeyBlobFormat.RawSymmetricKey);
        Assert.Equal(NSec.Cryptography.AeadAlgorithm.XChaCha20Poly1305.Encrypt(nsecKey, nonce, associatedData, plaintext), sealedText);

        var opened = new byte[plaintext.Length];
        Assert.True(XChaChaPoly.Open(key, nonce, sealedText, associatedData, opened));
        Assert.Equal(plaintext, opened);
        sealedText[0] ^= 1;
        Assert.False(XChaChaPoly.Open(key, nonce, sealedText, associatedData, opened));
        Assert.All(opened, b => Assert.Equal(0, b));
    }

    // Our X25519 calls libsodium directly; NSec's Key/SharedSecret path must agree on random keys.
    [Fact]
    public void X25519_agrees_with_nsec_on_random_keys()
    {
        var algorithm = NSec.Cryptography.KeyAgreementAlgorithm.X25519;
        var exportable = new NSec.Cryptography.SharedSecretCreationParameters { ExportPolicy = NSec.Cryptography.KeyExportPolicies.AllowPlaintextExport };
        for (var i = 0; i < 8; i++)
        {
            var privateKey = new byte[32];
            var otherPrivate = new byte[32];
            Curve25519.GeneratePrivateKey(privateKey);
            Curve25519.GeneratePrivateKey(otherPrivate);
            var publicKey = new byte[32];
            var otherPublic = new byte[32];
            Curve25519.DerivePublicKey(privateKey, publicKey);
            Curve25519.DerivePublicKey(otherPrivate, otherPublic);
            var shared = new byte[32];
            Assert.True(Curve25519.TryAgree(privateKey, otherPublic, shared));

            using var key = NSec.Cryptography.Key.Import(algorithm, privateKey, NSec.Cryptography.KeyBlobFormat.RawPrivateKey);
            Assert.Equal(key.PublicKey.Export(NSec.Cryptography.KeyBlobFormat.RawPublicKey), publicKey);
            var other = NSec.Cryptography.PublicKey.Import(algorithm, otherPublic, NSec.Cryptography.KeyBlobFormat.RawPublicKey);
            using var secret = algorithm.Agree(key, other, in exportable)!;
            Assert.Equal(secret.Export(NSec.Cryptography.SharedSecretBlobFormat.RawSharedSecret), shared);
        }
    }

    [Fact]
    public void XChaChaPoly_round_trips_and_rejects_tampering()
    {
        var key = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var nonce = Enumerable.Range(100, 24).Select(i => (byte)i).ToArray();
        var cookie = Enumerable.Range(200, 16).Select(i => (byte)i).ToArray();
        var sealedCookie = new byte[32];
        XChaChaPoly.Seal(key, nonce, cookie, "mac1"u8, sealedCookie);
        Assert.NotEqual(cookie, sealedCookie[..16]);

        var opened = new byte[16];
        Assert.True(XChaChaPoly.Open(key, nonce, sealedCookie, "mac1"u8, opened));
        Assert.Equal(cookie, opened);
        Assert.False(XChaChaPoly.Open(key, nonce, sealedCookie, "mac2"u8, opened));
        nonce[23] ^= 1;
        Assert.False(XChaChaPoly.Open(key, nonce, sealedCookie, "mac1"u8, opened));
    }

    [Fact]
    public void Tai64N_encodes_seconds_with_the_tai_base_and_whitened_nanoseconds()
    {
        var time = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000).AddTicks(123_456_789 / 100);
        var stamp = new byte[12];
        Tai64N.Write(time, stamp);
        Assert.Equal("400000006553f10a", ToHex(stamp.AsSpan(0, 8)));
        // 123456700 ns rounded down to a multiple of 2^24 = 117440512 = 0x07000000.
        Assert.Equal("07000000", ToHex(stamp.AsSpan(8)));

        var later = new byte[12];
        Tai64N.Write(time.AddMilliseconds(20), later);
        Assert.True(Tai64N.IsAfter(later, stamp));
        Assert.False(Tai64N.IsAfter(stamp, later));
        Assert.False(Tai64N.IsAfter(stamp, stamp));
    }
}
