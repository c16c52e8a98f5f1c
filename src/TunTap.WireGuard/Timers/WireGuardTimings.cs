namespace TunTap.WireGuard.Timers;

/// <summary>The protocol's timing constants (paper §6.1, wireguard-go <c>constants.go</c>).</summary>
public static class WireGuardTimings
{
    /// <summary>The initiator starts a new handshake when its keypair is this old (on send).</summary>
    public static readonly TimeSpan RekeyAfterTime = TimeSpan.FromSeconds(120);

    /// <summary>A keypair is never used after this age.</summary>
    public static readonly TimeSpan RejectAfterTime = TimeSpan.FromSeconds(180);

    /// <summary>How long to keep retrying a handshake before giving up.</summary>
    public static readonly TimeSpan RekeyAttemptTime = TimeSpan.FromSeconds(90);

    /// <summary>Wait for a response before resending an initiation (plus jitter); also the minimum gap between initiations.</summary>
    public static readonly TimeSpan RekeyTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Send an empty packet when data was received but nothing sent for this long.</summary>
    public static readonly TimeSpan KeepaliveTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Up to this much random delay is added to handshake retransmissions.</summary>
    public static readonly TimeSpan RekeyTimeoutJitterMax = TimeSpan.FromMilliseconds(334);

    /// <summary>The initiator rekeys after this many messages.</summary>
    public const ulong RekeyAfterMessages = 1UL << 60;

    /// <summary>Keypairs are not used for more messages than this.</summary>
    public const ulong RejectAfterMessages = Transport.ReplayWindow.RejectAfterMessages;

    /// <summary>Handshake attempts before giving up: RekeyAttemptTime / RekeyTimeout = 18.</summary>
    public static int MaxTimerHandshakes => (int)(RekeyAttemptTime / RekeyTimeout);

    /// <summary>
    /// On receive, an initiator rekeys once its keypair is this old, so keys are renewed before
    /// they expire even on a mostly-receiving peer: RejectAfterTime - KeepaliveTimeout - RekeyTimeout.
    /// </summary>
    public static TimeSpan RekeyOnReceiveAge => RejectAfterTime - KeepaliveTimeout - RekeyTimeout;
}
