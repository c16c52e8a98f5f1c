using TunTap.WireGuard.Crypto;

namespace TunTap.WireGuard.Transport;

/// <summary>
/// The transport keys one handshake produced: a sending and a receiving <see cref="TransportKey"/>,
/// both indexes, the send counter and the receive replay window. Sending is lock-free (the
/// counter is claimed atomically); the replay window is guarded for concurrent receivers.
/// </summary>
public sealed class Keypair : IDisposable
{
    private readonly Lock _replayLock = new();
    private readonly ReplayWindow _replay = new();
    private long _sendCounter = -1;

    /// <summary>Creates a keypair from derived keys.</summary>
    public Keypair(ReadOnlySpan<byte> sendKey, ReadOnlySpan<byte> receiveKey, bool isInitiator, uint localIndex, uint remoteIndex, long createdTimestamp)
    {
        Send = new TransportKey(sendKey);
        Receive = new TransportKey(receiveKey);
        IsInitiator = isInitiator;
        LocalIndex = localIndex;
        RemoteIndex = remoteIndex;
        CreatedTimestamp = createdTimestamp;
    }

    /// <summary>Encrypts what we send.</summary>
    public TransportKey Send { get; }

    /// <summary>Decrypts what we receive.</summary>
    public TransportKey Receive { get; }

    /// <summary>Whether we initiated the handshake (only the initiator rekeys on age).</summary>
    public bool IsInitiator { get; }

    /// <summary>Our index: the receiver index of messages sent to us with this keypair.</summary>
    public uint LocalIndex { get; }

    /// <summary>The peer's index, written in every message we send with this keypair.</summary>
    public uint RemoteIndex { get; }

    /// <summary>When the keys were derived (<see cref="TimeProvider.GetTimestamp"/>).</summary>
    public long CreatedTimestamp { get; }

    /// <summary>Counters claimed so far.</summary>
    public ulong SendCount => (ulong)(Interlocked.Read(ref _sendCounter) + 1);

    /// <summary>Claims the next send counter; false once <see cref="ReplayWindow.RejectAfterMessages"/> is reached.</summary>
    public bool TryClaimCounter(out ulong counter)
    {
        counter = (ulong)Interlocked.Increment(ref _sendCounter);
        return counter < ReplayWindow.RejectAfterMessages;
    }

    /// <summary>Marks a received, authenticated counter; false for a replay or one too old.</summary>
    public bool TryAcceptCounter(ulong counter)
    {
        lock (_replayLock)
        {
            return _replay.TryAccept(counter);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Send.Dispose();
        Receive.Dispose();
    }
}
