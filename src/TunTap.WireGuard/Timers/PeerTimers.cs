namespace TunTap.WireGuard.Timers;

/// <summary>
/// The per-peer timer state machine of the paper (§6) and wireguard-go's <c>timers.go</c>, driven
/// by events the device reports (<c>On…</c> methods) and acting through
/// <see cref="IPeerTimerActions"/>. Time comes from the injected <see cref="TimeProvider"/>
/// (a <c>FakeTimeProvider</c> in tests) and jitter from a seeded generator. Thread-safe; actions
/// run outside the internal lock.
/// </summary>
public sealed class PeerTimers : IDisposable
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly Random _jitter;
    private readonly IPeerTimerActions _actions;
    private readonly ITimer _retransmitHandshake;
    private readonly ITimer _sendKeepalive;
    private readonly ITimer _newHandshake;
    private readonly ITimer _zeroKeyMaterial;
    private readonly ITimer _persistentKeepalive;
    private bool _retransmitPending;
    private bool _keepalivePending;
    private bool _newHandshakePending;
    private bool _zeroPending;
    private bool _needAnotherKeepalive;
    private bool _disposed;
    private long _lastInitiationSent;
    private bool _hasSentInitiation;

    /// <summary>Creates the timers (all stopped).</summary>
    public PeerTimers(IPeerTimerActions actions, TimeProvider time, int seed)
    {
        ArgumentNullException.ThrowIfNull(actions);
        ArgumentNullException.ThrowIfNull(time);
        _actions = actions;
        _time = time;
        _jitter = new Random(seed);
        _retransmitHandshake = time.CreateTimer(static s => ((PeerTimers)s!).RetransmitHandshakeExpired(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _sendKeepalive = time.CreateTimer(static s => ((PeerTimers)s!).SendKeepaliveExpired(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _newHandshake = time.CreateTimer(static s => ((PeerTimers)s!).NewHandshakeExpired(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _zeroKeyMaterial = time.CreateTimer(static s => ((PeerTimers)s!).ZeroKeyMaterialExpired(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _persistentKeepalive = time.CreateTimer(static s => ((PeerTimers)s!).PersistentKeepaliveExpired(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Persistent keepalive interval; <see cref="TimeSpan.Zero"/> disables it.</summary>
    public TimeSpan PersistentKeepaliveInterval { get; set; }

    /// <summary>Unanswered initiations sent in a row (reset by a completed handshake or new data).</summary>
    public int HandshakeAttempts { get; private set; }

    /// <summary>
    /// Rate limit for initiations: false when one was sent less than RekeyTimeout ago. A retry
    /// keeps the attempt count; a fresh attempt resets it. Call before sending; on true the
    /// caller sends the initiation and then reports <see cref="OnHandshakeInitiated"/>.
    /// </summary>
    public bool TryBeginHandshake(bool isRetry)
    {
        lock (_lock)
        {
            if (!isRetry)
            {
                HandshakeAttempts = 0;
            }

            if (_hasSentInitiation && _time.GetElapsedTime(_lastInitiationSent) < WireGuardTimings.RekeyTimeout)
            {
                return false;
            }

            _lastInitiationSent = _time.GetTimestamp();
            _hasSentInitiation = true;
            return true;
        }
    }

    /// <summary>An initiation was sent: retransmit if no response within RekeyTimeout + jitter.</summary>
    public void OnHandshakeInitiated() => Start(_retransmitHandshake, ref _retransmitPending, WireGuardTimings.RekeyTimeout + Jitter());

    /// <summary>A handshake completed (response consumed, or first data on the responder's keypair).</summary>
    public void OnHandshakeComplete()
    {
        lock (_lock)
        {
            Stop(_retransmitHandshake, ref _retransmitPending);
            HandshakeAttempts = 0;
        }
    }

    /// <summary>New transport keys were derived: they are wiped if no newer ones come in 3 × RejectAfterTime.</summary>
    public void OnSessionDerived() => Restart(_zeroKeyMaterial, ref _zeroPending, WireGuardTimings.RejectAfterTime * 3);

    /// <summary>A data packet (not a keepalive) was sent: expect an answer within KeepaliveTimeout + RekeyTimeout.</summary>
    public void OnDataSent()
    {
        lock (_lock)
        {
            if (!_newHandshakePending)
            {
                StartLocked(_newHandshake, ref _newHandshakePending, WireGuardTimings.KeepaliveTimeout + WireGuardTimings.RekeyTimeout + Jitter());
            }
        }
    }

    /// <summary>A data packet was received: answer with a keepalive if we send nothing for KeepaliveTimeout.</summary>
    public void OnDataReceived() => OnDataReceived(1);

    /// <summary>
    /// <paramref name="packets"/> data packets were received together: the same as that many
    /// <see cref="OnDataReceived()"/> calls in a row, under one lock.
    /// </summary>
    public void OnDataReceived(int packets)
    {
        lock (_lock)
        {
            if (!_keepalivePending)
            {
                StartLocked(_sendKeepalive, ref _keepalivePending, WireGuardTimings.KeepaliveTimeout);
                _needAnotherKeepalive |= packets > 1 && _keepalivePending;
            }
            else
            {
                _needAnotherKeepalive = true;
            }
        }
    }

    /// <summary>Any authenticated packet (data or keepalive) was sent: no keepalive is owed.</summary>
    public void OnAnyAuthenticatedPacketSent()
    {
        lock (_lock)
        {
            Stop(_sendKeepalive, ref _keepalivePending);
        }
    }

    /// <summary>Any authenticated packet was received: the peer is alive, no new handshake is needed for our data.</summary>
    public void OnAnyAuthenticatedPacketReceived()
    {
        lock (_lock)
        {
            Stop(_newHandshake, ref _newHandshakePending);
        }
    }

    /// <summary>Any authenticated packet went either way: push the persistent keepalive back.</summary>
    public void OnAnyAuthenticatedPacketTraversal()
    {
        var interval = PersistentKeepaliveInterval;
        if (interval > TimeSpan.Zero)
        {
            lock (_lock)
            {
                if (!_disposed)
                {
                    _persistentKeepalive.Change(interval, Timeout.InfiniteTimeSpan);
                }
            }
        }
    }

    /// <summary>True when a timer of that kind is armed (for tests and status).</summary>
    public bool IsRetransmitPending
    {
        get
        {
            lock (_lock)
            {
                return _retransmitPending;
            }
        }
    }

    /// <summary>Stops everything.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
        }

        _retransmitHandshake.Dispose();
        _sendKeepalive.Dispose();
        _newHandshake.Dispose();
        _zeroKeyMaterial.Dispose();
        _persistentKeepalive.Dispose();
    }

    private void RetransmitHandshakeExpired()
    {
        bool giveUp;
        bool startZero = false;
        lock (_lock)
        {
            if (_disposed || !_retransmitPending)
            {
                return;
            }

            _retransmitPending = false;
            giveUp = HandshakeAttempts > WireGuardTimings.MaxTimerHandshakes;
            if (giveUp)
            {
                Stop(_sendKeepalive, ref _keepalivePending);
                startZero = !_zeroPending;
                if (startZero)
                {
                    StartLocked(_zeroKeyMaterial, ref _zeroPending, WireGuardTimings.RejectAfterTime * 3);
                }
            }
            else
            {
                HandshakeAttempts++;
            }
        }

        if (giveUp)
        {
            _actions.HandshakeFailed();
        }
        else
        {
            _actions.SendHandshakeInitiation(isRetry: true);
        }
    }

    private void SendKeepaliveExpired()
    {
        lock (_lock)
        {
            if (_disposed || !_keepalivePending)
            {
                return;
            }

            _keepalivePending = false;
            if (_needAnotherKeepalive)
            {
                _needAnotherKeepalive = false;
                StartLocked(_sendKeepalive, ref _keepalivePending, WireGuardTimings.KeepaliveTimeout);
            }
        }

        _actions.SendKeepalive();
    }

    private void NewHandshakeExpired()
    {
        lock (_lock)
        {
            if (_disposed || !_newHandshakePending)
            {
                return;
            }

            _newHandshakePending = false;
        }

        _actions.SendHandshakeInitiation(isRetry: false);
    }

    private void ZeroKeyMaterialExpired()
    {
        lock (_lock)
        {
            if (_disposed || !_zeroPending)
            {
                return;
            }

            _zeroPending = false;
        }

        _actions.ZeroKeyMaterial();
    }

    private void PersistentKeepaliveExpired()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }
        }

        if (PersistentKeepaliveInterval > TimeSpan.Zero)
        {
            _actions.SendKeepalive();
        }
    }

    private TimeSpan Jitter()
    {
        lock (_lock)
        {
            return TimeSpan.FromMilliseconds(_jitter.Next((int)WireGuardTimings.RekeyTimeoutJitterMax.TotalMilliseconds));
        }
    }

    private void Start(ITimer timer, ref bool pending, TimeSpan due)
    {
        lock (_lock)
        {
            StartLocked(timer, ref pending, due);
        }
    }

    private void Restart(ITimer timer, ref bool pending, TimeSpan due) => Start(timer, ref pending, due);

    private void StartLocked(ITimer timer, ref bool pending, TimeSpan due)
    {
        if (_disposed)
        {
            return;
        }

        pending = true;
        timer.Change(due, Timeout.InfiniteTimeSpan);
    }

    private void Stop(ITimer timer, ref bool pending)
    {
        // A timer is only armed while its flag is set (both change under the lock): an idle one
        // needs no call into the timer queue, which the data path would otherwise make per batch.
        if (!pending)
        {
            return;
        }

        pending = false;
        if (!_disposed)
        {
            timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }
}
