using Microsoft.Extensions.Time.Testing;
using TunTap.WireGuard;
using TunTap.WireGuard.Messages;
using TunTap.WireGuard.Noise;

namespace TunTap.Tests.WireGuard;

public sealed class HandshakeTests
{
    // Transcript from an independent reference written from the whitepaper in Python (hashlib's
    // BLAKE2 reference code, OpenSSL X25519/ChaCha20-Poly1305), with fixed keys, ephemerals,
    // indexes and timestamp. Our bytes must match exactly.
    private const string ReferenceInitiation =
        "01000000443322114c2817a9d668ed844d2f95b93b69ecb8485095783a015a424164b0d09702894fd029242ecd2fd22c3d19e082c322794ffdfff10aaf7e3bedabed89f677e0f68923d26c77e6859ead4ee5e83c4fced016843c41595840d6c62250e148cc412686b3144a698868ea66f0439ff1d9242d7698b7fa292055dd800bbf3c0d00000000000000000000000000000000";

    private const string ReferenceResponse =
        "02000000887766554433221119d80204bf85f3e1118e1b23410c88f0d0eeced5156f4c5bdf347b14ed7ec63f5c56d84c5f2ebed7f46bd5edef71129b9b12ddbcb328fd1da4afe53f73022bd400000000000000000000000000000000";

    private static readonly DateTimeOffset ReferenceTime = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000).AddTicks(1_234_567);

    private static WireGuardKey Key(string hex) => new(Convert.FromHexString(hex));

    private static void Fill(Span<byte> span, byte value) => span.Fill(value);

    [Fact]
    public void Handshake_matches_independent_reference_transcript()
    {
        var initiator = new NoiseIdentity(Key("0002030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f60"));
        var responder = new NoiseIdentity(Key("60666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f8081828344"));
        var psk = new WireGuardKey(Enumerable.Repeat((byte)0x11, 32).ToArray());
        var time = new FakeTimeProvider(ReferenceTime);

        var atInitiator = new HandshakeState(initiator, responder.PublicKey, psk);
        var atResponder = new HandshakeState(responder, initiator.PublicKey, psk);
        var initiation = new byte[HandshakeInitiationMessage.Size];
        Assert.Equal(HandshakeError.None, NoiseHandshake.CreateInitiation(atInitiator, 0x11223344, ReferenceTime, s => Fill(s, 0xe1), initiation));
        new CookieGenerator(responder.PublicKey, time).AddMacs(initiation);
        Assert.Equal(ReferenceInitiation, Convert.ToHexStringLower(initiation));

        var checker = new CookieChecker(responder, time, s => Fill(s, 0x99));
        Assert.True(checker.CheckMac1(initiation));
        Assert.Equal(HandshakeError.None, NoiseHandshake.ConsumeInitiation(responder, initiation, k => k == initiator.PublicKey ? atResponder : null, ReferenceTime, out var found));
        Assert.Same(atResponder, found);
        Assert.Equal(0x11223344u, atResponder.RemoteIndex);

        var response = new byte[HandshakeResponseMessage.Size];
        Assert.Equal(HandshakeError.None, NoiseHandshake.CreateResponse(atResponder, 0x55667788, s => Fill(s, 0xe2), response));
        new CookieGenerator(initiator.PublicKey, time).AddMacs(response);
        Assert.Equal(ReferenceResponse, Convert.ToHexStringLower(response));

        Assert.True(new CookieChecker(initiator, time, s => Fill(s, 0x99)).CheckMac1(response));
        Assert.Equal(HandshakeError.None, NoiseHandshake.ConsumeResponse(atInitiator, response));
        Assert.Equal(0x55667788u, atInitiator.RemoteIndex);

        byte[] iSend = new byte[32], iReceive = new byte[32], rSend = new byte[32], rReceive = new byte[32];
        Assert.Equal(HandshakeError.None, NoiseHandshake.DeriveTransportKeys(atInitiator, iSend, iReceive, out var initiatorRole));
        Assert.Equal(HandshakeError.None, NoiseHandshake.DeriveTransportKeys(atResponder, rSend, rReceive, out var responderRole));
        Assert.True(initiatorRole);
        Assert.False(responderRole);
        Assert.Equal("34c7857ab6456f80e81c2d3802d7ec2143c098783a4e09220241551bd5dbc8ed", Convert.ToHexStringLower(iSend));
        Assert.Equal("c0e8dad730cc3123f43cc9a06a050368f6c04de8de8d52e85c9a73271ed13059", Convert.ToHexStringLower(iReceive));
        Assert.Equal(iSend, rReceive);
        Assert.Equal(iReceive, rSend);
        Assert.Equal(HandshakeStage.Zeroed, atInitiator.Stage);
        Assert.Equal(HandshakeStage.Zeroed, atResponder.Stage);
    }

    private sealed class Pair
    {
        public Pair(WireGuardKey psk = default, WireGuardKey? responderPsk = null)
        {
            Initiator = new NoiseIdentity(WireGuardKey.GeneratePrivateKey());
            Responder = new NoiseIdentity(WireGuardKey.GeneratePrivateKey());
            AtInitiator = new HandshakeState(Initiator, Responder.PublicKey, psk);
            AtResponder = new HandshakeState(Responder, Initiator.PublicKey, responderPsk ?? psk);
        }

        public NoiseIdentity Initiator { get; }

        public NoiseIdentity Responder { get; }

        public HandshakeState AtInitiator { get; }

        public HandshakeState AtResponder { get; }

        public DateTimeOffset Now { get; set; } = DateTimeOffset.UnixEpoch.AddDays(20000);

        public byte[] Initiate(uint index = 1)
        {
            var message = new byte[HandshakeInitiationMessage.Size];
            Assert.Equal(HandshakeError.None, NoiseHandshake.CreateInitiation(AtInitiator, index, Now, System.Security.Cryptography.RandomNumberGenerator.Fill, message));
            return message;
        }

        public HandshakeError Consume(byte[] initiation) =>
            NoiseHandshake.ConsumeInitiation(Responder, initiation, k => k == Initiator.PublicKey ? AtResponder : null, Now, out _);

        public byte[] Respond(uint index = 2)
        {
            var message = new byte[HandshakeResponseMessage.Size];
            Assert.Equal(HandshakeError.None, NoiseHandshake.CreateResponse(AtResponder, index, System.Security.Cryptography.RandomNumberGenerator.Fill, message));
            return message;
        }
    }

    [Fact]
    public void Random_peers_without_psk_derive_matching_keys()
    {
        var pair = new Pair();
        Assert.Equal(HandshakeError.None, pair.Consume(pair.Initiate()));
        Assert.Equal(HandshakeError.None, NoiseHandshake.ConsumeResponse(pair.AtInitiator, pair.Respond()));
        byte[] iSend = new byte[32], iReceive = new byte[32], rSend = new byte[32], rReceive = new byte[32];
        NoiseHandshake.DeriveTransportKeys(pair.AtInitiator, iSend, iReceive, out _);
        NoiseHandshake.DeriveTransportKeys(pair.AtResponder, rSend, rReceive, out _);
        Assert.Equal(iSend, rReceive);
        Assert.Equal(iReceive, rSend);
        Assert.NotEqual(iSend, iReceive);
    }

    [Fact]
    public void Replayed_initiation_is_rejected_even_after_the_flood_interval()
    {
        var pair = new Pair();
        var initiation = pair.Initiate();
        Assert.Equal(HandshakeError.None, pair.Consume(initiation));
        pair.Now += TimeSpan.FromSeconds(1);
        Assert.Equal(HandshakeError.Replay, pair.Consume(initiation));
    }

    [Fact]
    public void Initiations_closer_than_20_ms_are_a_flood()
    {
        var pair = new Pair();
        Assert.Equal(HandshakeError.None, pair.Consume(pair.Initiate()));
        pair.Now += TimeSpan.FromMilliseconds(17);
        // Timestamps are whitened to 2^24 ns: step past that so only the flood check fires.
        var initiation = new byte[HandshakeInitiationMessage.Size];
        NoiseHandshake.CreateInitiation(pair.AtInitiator, 3, pair.Now + TimeSpan.FromMilliseconds(40), System.Security.Cryptography.RandomNumberGenerator.Fill, initiation);
        Assert.Equal(HandshakeError.Flood, pair.Consume(initiation));
        pair.Now += TimeSpan.FromMilliseconds(10);
        Assert.Equal(HandshakeError.None, pair.Consume(initiation));
    }

    [Fact]
    public void Unknown_initiator_is_rejected()
    {
        var pair = new Pair();
        var initiation = pair.Initiate();
        Assert.Equal(HandshakeError.UnknownPeer, NoiseHandshake.ConsumeInitiation(pair.Responder, initiation, _ => null, pair.Now, out var found));
        Assert.Null(found);
    }

    [Fact]
    public void Initiation_for_another_responder_does_not_decrypt()
    {
        var pair = new Pair();
        var other = new NoiseIdentity(WireGuardKey.GeneratePrivateKey());
        var initiation = pair.Initiate();
        Assert.Equal(HandshakeError.DecryptionFailed, NoiseHandshake.ConsumeInitiation(other, initiation, _ => pair.AtResponder, pair.Now, out _));
    }

    [Fact]
    public void Any_flipped_bit_in_the_encrypted_fields_is_rejected()
    {
        for (var offset = HandshakeInitiationMessage.Field.Ephemeral; offset < HandshakeInitiationMessage.Field.Mac1; offset += 7)
        {
            var pair = new Pair();
            var initiation = pair.Initiate();
            initiation[offset] ^= 0x04;
            Assert.NotEqual(HandshakeError.None, pair.Consume(initiation));
        }
    }

    [Fact]
    public void Mismatched_preshared_keys_fail_at_the_response()
    {
        var pair = new Pair(new WireGuardKey(new byte[32]), WireGuardKey.GeneratePresharedKey());
        Assert.Equal(HandshakeError.None, pair.Consume(pair.Initiate()));
        Assert.Equal(HandshakeError.DecryptionFailed, NoiseHandshake.ConsumeResponse(pair.AtInitiator, pair.Respond()));
        Assert.Equal(HandshakeStage.InitiationCreated, pair.AtInitiator.Stage);
    }

    [Fact]
    public void Response_without_pending_initiation_is_wrong_stage()
    {
        var pair = new Pair();
        Assert.Equal(HandshakeError.None, pair.Consume(pair.Initiate()));
        var response = pair.Respond();
        Assert.Equal(HandshakeError.None, NoiseHandshake.ConsumeResponse(pair.AtInitiator, response));
        Assert.Equal(HandshakeError.WrongStage, NoiseHandshake.ConsumeResponse(pair.AtInitiator, response));
        Assert.Equal(HandshakeError.WrongStage, NoiseHandshake.CreateResponse(pair.AtInitiator, 5, System.Security.Cryptography.RandomNumberGenerator.Fill, new byte[92]));
    }

    [Fact]
    public void Low_order_peer_key_cannot_handshake()
    {
        var local = new NoiseIdentity(WireGuardKey.GeneratePrivateKey());
        var state = new HandshakeState(local, default);
        Assert.False(state.HasValidStaticSecret);
        Assert.Equal(HandshakeError.InvalidKey, NoiseHandshake.CreateInitiation(state, 1, DateTimeOffset.UnixEpoch, System.Security.Cryptography.RandomNumberGenerator.Fill, new byte[148]));
    }
}
