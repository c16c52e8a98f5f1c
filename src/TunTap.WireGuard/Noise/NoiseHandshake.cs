using System.Security.Cryptography;
using TunTap.WireGuard.Crypto;
using TunTap.WireGuard.Messages;

namespace TunTap.WireGuard.Noise;

/// <summary>
/// The Noise_IKpsk2 message computations of the WireGuard paper (§5.4.2–5.4.5), as pure functions
/// of a <see cref="HandshakeState"/>, the message bytes, a clock reading and a random source.
/// MAC1/MAC2 are not handled here: see <see cref="CookieGenerator"/> and <see cref="CookieChecker"/>.
/// </summary>
public static class NoiseHandshake
{
    /// <summary>The shortest interval between two initiations accepted from one peer (50 per second).</summary>
    public static readonly TimeSpan InitiationFloodInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Writes an initiation (without MACs) to <paramref name="buffer"/> and moves the handshake to
    /// <see cref="HandshakeStage.InitiationCreated"/>.
    /// </summary>
    /// <param name="handshake">The peer's state.</param>
    /// <param name="localIndex">Our fresh index for this handshake.</param>
    /// <param name="now">Wall clock, for the TAI64N timestamp.</param>
    /// <param name="random">Source of the ephemeral key.</param>
    /// <param name="buffer">At least <see cref="HandshakeInitiationMessage.Size"/> bytes.</param>
    public static HandshakeError CreateInitiation(HandshakeState handshake, uint localIndex, DateTimeOffset now, RandomFill random, Span<byte> buffer)
    {
        ArgumentNullException.ThrowIfNull(handshake);
        ArgumentNullException.ThrowIfNull(random);
        if (!handshake.HasValidStaticSecret)
        {
            return HandshakeError.InvalidKey;
        }

        var message = HandshakeInitiationMessage.Create(buffer);
        var state = new NoiseSymmetricState(stackalloc byte[NoiseSymmetricState.Size]);
        Span<byte> ephemeralPrivate = stackalloc byte[32];
        try
        {
            state.Initialize(handshake.RemoteStaticBytes);

            Curve25519.GeneratePrivateKey(ephemeralPrivate, random);
            Curve25519.DerivePublicKey(ephemeralPrivate, message.Ephemeral);
            state.MixChainingKey(message.Ephemeral);
            state.MixHash(message.Ephemeral);

            if (!state.TryMixKeyWithDh(ephemeralPrivate, handshake.RemoteStaticBytes))
            {
                return HandshakeError.InvalidKey;
            }

            state.EncryptAndHash(handshake.Local.PublicKeyBytes, message.EncryptedStatic);

            state.MixKey(handshake.StaticStaticSecret);
            Span<byte> timestamp = stackalloc byte[Tai64N.Size];
            Tai64N.Write(now, timestamp);
            state.EncryptAndHash(timestamp, message.EncryptedTimestamp);

            message.SenderIndex = localIndex;
            state.Store(handshake);
            ephemeralPrivate.CopyTo(handshake.LocalEphemeralPrivate);
            handshake.LocalIndex = localIndex;
            handshake.RemoteIndex = 0;
            handshake.Stage = HandshakeStage.InitiationCreated;
            return HandshakeError.None;
        }
        finally
        {
            state.Clear();
            CryptographicOperations.ZeroMemory(ephemeralPrivate);
        }
    }

    /// <summary>
    /// Responder: decrypts an initiation (MAC1 already checked), finds the initiator with
    /// <paramref name="findPeer"/>, checks its timestamp against replay and flooding, and on success
    /// moves that peer's handshake to <see cref="HandshakeStage.InitiationConsumed"/>.
    /// </summary>
    /// <param name="local">Our identity.</param>
    /// <param name="buffer">The 148-byte message.</param>
    /// <param name="findPeer">Maps the initiator's static public key to its handshake state, or null.</param>
    /// <param name="now">Wall clock, for flood protection.</param>
    /// <param name="handshake">The initiator's handshake state when accepted.</param>
    public static HandshakeError ConsumeInitiation(NoiseIdentity local, ReadOnlySpan<byte> buffer, Func<WireGuardKey, HandshakeState?> findPeer, DateTimeOffset now, out HandshakeState? handshake)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(findPeer);
        handshake = null;
        if (buffer.Length != HandshakeInitiationMessage.Size || MessageHeader.ReadType(buffer) != MessageType.HandshakeInitiation)
        {
            return HandshakeError.DecryptionFailed;
        }

        var ephemeral = buffer.Slice(HandshakeInitiationMessage.Field.Ephemeral, 32);
        var encryptedStatic = buffer.Slice(HandshakeInitiationMessage.Field.EncryptedStatic, HandshakeInitiationMessage.EncryptedStaticSize);
        var encryptedTimestamp = buffer.Slice(HandshakeInitiationMessage.Field.EncryptedTimestamp, HandshakeInitiationMessage.EncryptedTimestampSize);

        var state = new NoiseSymmetricState(stackalloc byte[NoiseSymmetricState.Size]);
        Span<byte> peerStatic = stackalloc byte[32];
        Span<byte> timestamp = stackalloc byte[Tai64N.Size];
        try
        {
            state.Initialize(local.PublicKeyBytes);
            state.MixHash(ephemeral);
            state.MixChainingKey(ephemeral);

            if (!state.TryMixKeyWithDh(local.PrivateKeyBytes, ephemeral))
            {
                return HandshakeError.InvalidKey;
            }

            if (!state.TryDecryptAndHash(encryptedStatic, peerStatic))
            {
                return HandshakeError.DecryptionFailed;
            }

            var peer = findPeer(new WireGuardKey(peerStatic));
            if (peer is null)
            {
                return HandshakeError.UnknownPeer;
            }

            if (!peer.HasValidStaticSecret)
            {
                return HandshakeError.InvalidKey;
            }

            state.MixKey(peer.StaticStaticSecret);
            if (!state.TryDecryptAndHash(encryptedTimestamp, timestamp))
            {
                return HandshakeError.DecryptionFailed;
            }

            if (!Tai64N.IsAfter(timestamp, peer.LastTimestamp))
            {
                return HandshakeError.Replay;
            }

            if (now - peer.LastInitiationConsumed < InitiationFloodInterval)
            {
                return HandshakeError.Flood;
            }

            state.Store(peer);
            ephemeral.CopyTo(peer.RemoteEphemeral);
            timestamp.CopyTo(peer.LastTimestamp);
            peer.LastInitiationConsumed = now;
            peer.RemoteIndex = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(buffer[HandshakeInitiationMessage.Field.SenderIndex..]);
            peer.Stage = HandshakeStage.InitiationConsumed;
            handshake = peer;
            return HandshakeError.None;
        }
        finally
        {
            state.Clear();
        }
    }

    /// <summary>
    /// Responder: writes the response (without MACs) to an initiation that was consumed, and moves
    /// the handshake to <see cref="HandshakeStage.ResponseCreated"/>.
    /// </summary>
    public static HandshakeError CreateResponse(HandshakeState handshake, uint localIndex, RandomFill random, Span<byte> buffer)
    {
        ArgumentNullException.ThrowIfNull(handshake);
        ArgumentNullException.ThrowIfNull(random);
        if (handshake.Stage != HandshakeStage.InitiationConsumed)
        {
            return HandshakeError.WrongStage;
        }

        var message = HandshakeResponseMessage.Create(buffer);
        message.SenderIndex = localIndex;
        message.ReceiverIndex = handshake.RemoteIndex;

        var state = new NoiseSymmetricState(stackalloc byte[NoiseSymmetricState.Size]);
        Span<byte> ephemeralPrivate = stackalloc byte[32];
        try
        {
            state.Load(handshake);

            Curve25519.GeneratePrivateKey(ephemeralPrivate, random);
            Curve25519.DerivePublicKey(ephemeralPrivate, message.Ephemeral);
            state.MixHash(message.Ephemeral);
            state.MixChainingKey(message.Ephemeral);

            if (!state.TryMixChainingKeyWithDh(ephemeralPrivate, handshake.RemoteEphemeral)
                || !state.TryMixChainingKeyWithDh(ephemeralPrivate, handshake.RemoteStaticBytes))
            {
                return HandshakeError.InvalidKey;
            }

            state.MixKeyAndHash(handshake.PresharedKey);
            state.EncryptAndHash([], message.EncryptedNothing);

            state.Store(handshake);
            handshake.LocalIndex = localIndex;
            handshake.Stage = HandshakeStage.ResponseCreated;
            return HandshakeError.None;
        }
        finally
        {
            state.Clear();
            CryptographicOperations.ZeroMemory(ephemeralPrivate);
        }
    }

    /// <summary>
    /// Initiator: checks a response (MAC1 already checked) against our pending initiation and moves
    /// the handshake to <see cref="HandshakeStage.ResponseConsumed"/>. The caller found
    /// <paramref name="handshake"/> by the message's receiver index.
    /// </summary>
    public static HandshakeError ConsumeResponse(HandshakeState handshake, ReadOnlySpan<byte> buffer)
    {
        ArgumentNullException.ThrowIfNull(handshake);
        if (buffer.Length != HandshakeResponseMessage.Size || MessageHeader.ReadType(buffer) != MessageType.HandshakeResponse)
        {
            return HandshakeError.DecryptionFailed;
        }

        if (handshake.Stage != HandshakeStage.InitiationCreated)
        {
            return HandshakeError.WrongStage;
        }

        var ephemeral = buffer.Slice(HandshakeResponseMessage.Field.Ephemeral, 32);
        var encryptedNothing = buffer.Slice(HandshakeResponseMessage.Field.EncryptedNothing, 16);

        var state = new NoiseSymmetricState(stackalloc byte[NoiseSymmetricState.Size]);
        try
        {
            state.Load(handshake);
            state.MixHash(ephemeral);
            state.MixChainingKey(ephemeral);

            if (!state.TryMixChainingKeyWithDh(handshake.LocalEphemeralPrivate, ephemeral)
                || !state.TryMixChainingKeyWithDh(handshake.Local.PrivateKeyBytes, ephemeral))
            {
                return HandshakeError.InvalidKey;
            }

            state.MixKeyAndHash(handshake.PresharedKey);
            if (!state.TryDecryptAndHash(encryptedNothing, []))
            {
                return HandshakeError.DecryptionFailed;
            }

            state.Store(handshake);
            handshake.RemoteIndex = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(buffer[HandshakeResponseMessage.Field.SenderIndex..]);
            handshake.Stage = HandshakeStage.ResponseConsumed;
            return HandshakeError.None;
        }
        finally
        {
            state.Clear();
        }
    }

    /// <summary>
    /// Derives the transport keys of a completed handshake (<c>KDF2(C, ε)</c>), then wipes the
    /// handshake. The initiator sends with the first key, the responder with the second.
    /// </summary>
    /// <returns>Whether we were the initiator; <see cref="HandshakeError.WrongStage"/> when no handshake completed.</returns>
    public static HandshakeError DeriveTransportKeys(HandshakeState handshake, Span<byte> sendKey, Span<byte> receiveKey, out bool isInitiator)
    {
        ArgumentNullException.ThrowIfNull(handshake);
        isInitiator = handshake.Stage == HandshakeStage.ResponseConsumed;
        if (!isInitiator && handshake.Stage != HandshakeStage.ResponseCreated)
        {
            return HandshakeError.WrongStage;
        }

        if (isInitiator)
        {
            Kdf.Derive(handshake.ChainingKey, [], sendKey, receiveKey);
        }
        else
        {
            Kdf.Derive(handshake.ChainingKey, [], receiveKey, sendKey);
        }

        var localIndex = handshake.LocalIndex;
        var remoteIndex = handshake.RemoteIndex;
        handshake.Clear();
        handshake.LocalIndex = localIndex;
        handshake.RemoteIndex = remoteIndex;
        return HandshakeError.None;
    }
}
