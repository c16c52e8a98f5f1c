using Microsoft.Extensions.Time.Testing;
using TunTap.WireGuard.Timers;

namespace TunTap.Tests.WireGuard;

public sealed class PeerTimersTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UnixEpoch.AddDays(20000));
    private readonly RecordingActions _actions = new();
    private readonly PeerTimers _timers;

    public PeerTimersTests()
    {
        _timers = new PeerTimers(_actions, _time, seed: 7);
        _actions.Timers = _timers;
    }

    public void Dispose() => _timers.Dispose();

    // Behaves like the device: initiations go through the rate limit, keepalives count as sent packets.
    private sealed class RecordingActions : IPeerTimerActions
    {
        public PeerTimers? Timers { get; set; }

        public List<string> Log { get; } = [];

        public void SendHandshakeInitiation(bool isRetry)
        {
            if (Timers!.TryBeginHandshake(isRetry))
            {
                Log.Add(isRetry ? "retry" : "initiate");
                Timers.OnHandshakeInitiated();
            }
            else
            {
                Log.Add("rate-limited");
            }
        }

        public void SendKeepalive()
        {
            Log.Add("keepalive");
            Timers!.OnAnyAuthenticatedPacketSent();
            Timers.OnAnyAuthenticatedPacketTraversal();
        }

        public void HandshakeFailed() => Log.Add("failed");

        public void ZeroKeyMaterial() => Log.Add("zero");
    }

    private void Advance(TimeSpan span, TimeSpan step)
    {
        for (var elapsed = TimeSpan.Zero; elapsed < span; elapsed += step)
        {
            _time.Advance(step);
        }
    }

    [Fact]
    public void Constants_follow_the_paper()
    {
        Assert.Equal(18, WireGuardTimings.MaxTimerHandshakes);
        Assert.Equal(TimeSpan.FromSeconds(165), WireGuardTimings.RekeyOnReceiveAge);
        Assert.Equal(1UL << 60, WireGuardTimings.RekeyAfterMessages);
    }

    [Fact]
    public void Unanswered_initiation_is_retried_every_5_seconds_plus_jitter_then_given_up()
    {
        _actions.SendHandshakeInitiation(isRetry: false);
        _time.Advance(TimeSpan.FromSeconds(4.99));
        Assert.Equal(["initiate"], _actions.Log);
        _time.Advance(TimeSpan.FromMilliseconds(344));
        Assert.Equal(["initiate", "retry"], _actions.Log);

        Advance(TimeSpan.FromSeconds(120), TimeSpan.FromMilliseconds(100));
        Assert.Equal(1 + 19, _actions.Log.Count(e => e is "initiate" or "retry"));
        Assert.Equal("failed", _actions.Log[^1]);
        Assert.False(_timers.IsRetransmitPending);

        // Given up: key material is wiped 3 × RejectAfterTime later.
        Advance(TimeSpan.FromSeconds(540), TimeSpan.FromSeconds(1));
        Assert.Equal("zero", _actions.Log[^1]);
    }

    [Fact]
    public void Completed_handshake_stops_retransmission()
    {
        _actions.SendHandshakeInitiation(isRetry: false);
        _time.Advance(TimeSpan.FromSeconds(2));
        _timers.OnHandshakeComplete();
        Advance(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(1));
        Assert.Equal(["initiate"], _actions.Log);
        Assert.Equal(0, _timers.HandshakeAttempts);
    }

    [Fact]
    public void Initiations_are_rate_limited_to_one_per_rekey_timeout()
    {
        Assert.True(_timers.TryBeginHandshake(isRetry: false));
        _time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.False(_timers.TryBeginHandshake(isRetry: false));
        _time.Advance(TimeSpan.FromSeconds(0.2));
        Assert.True(_timers.TryBeginHandshake(isRetry: false));
    }

    [Fact]
    public void Received_data_is_answered_by_a_keepalive_after_10_seconds_unless_we_send()
    {
        _timers.OnDataReceived();
        _time.Advance(TimeSpan.FromSeconds(9.9));
        Assert.Empty(_actions.Log);
        _time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal(["keepalive"], _actions.Log);

        _timers.OnDataReceived();
        _time.Advance(TimeSpan.FromSeconds(5));
        _timers.OnAnyAuthenticatedPacketSent();
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(["keepalive"], _actions.Log);
    }

    [Fact]
    public void Data_received_while_a_keepalive_is_pending_earns_another_one()
    {
        _timers.OnDataReceived();
        _time.Advance(TimeSpan.FromSeconds(3));
        _timers.OnDataReceived();
        _time.Advance(TimeSpan.FromSeconds(7));
        Assert.Equal(["keepalive"], _actions.Log);
        // The keepalive itself stopped the timer, as a sent packet does.
        _time.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal(["keepalive"], _actions.Log);
    }

    // Keepalives that are only logged (not reported as sent), so a re-armed keepalive timer shows.
    private sealed class KeepaliveLog : IPeerTimerActions
    {
        public int Keepalives { get; private set; }

        public void SendHandshakeInitiation(bool isRetry)
        {
        }

        public void SendKeepalive() => Keepalives++;

        public void HandshakeFailed()
        {
        }

        public void ZeroKeyMaterial()
        {
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(5, 2)]
    public void Data_received_in_one_batch_counts_like_that_many_packets_one_by_one(int packets, int expectedKeepalives)
    {
        var batched = new KeepaliveLog();
        var single = new KeepaliveLog();
        using var batchedTimers = new PeerTimers(batched, _time, seed: 1);
        using var singleTimers = new PeerTimers(single, _time, seed: 1);
        batchedTimers.OnDataReceived(packets);
        for (var i = 0; i < packets; i++)
        {
            singleTimers.OnDataReceived();
        }

        Advance(TimeSpan.FromSeconds(45), TimeSpan.FromSeconds(1));
        Assert.Equal(expectedKeepalives, single.Keepalives);
        Assert.Equal(single.Keepalives, batched.Keepalives);
    }

    [Fact]
    public void Sent_data_without_any_answer_starts_a_new_handshake_after_15_seconds()
    {
        _timers.OnDataSent();
        _time.Advance(TimeSpan.FromSeconds(14.9));
        Assert.Empty(_actions.Log);
        _time.Advance(TimeSpan.FromSeconds(0.5));
        Assert.Equal(["initiate"], _actions.Log);

        _actions.Log.Clear();
        _timers.OnHandshakeComplete();
        _timers.OnDataSent();
        _time.Advance(TimeSpan.FromSeconds(10));
        _timers.OnAnyAuthenticatedPacketReceived();
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Empty(_actions.Log);
    }

    [Fact]
    public void Persistent_keepalive_fires_every_interval_of_silence()
    {
        _timers.PersistentKeepaliveInterval = TimeSpan.FromSeconds(25);
        _timers.OnAnyAuthenticatedPacketTraversal();
        Advance(TimeSpan.FromSeconds(100), TimeSpan.FromSeconds(1));
        Assert.Equal(4, _actions.Log.Count(e => e == "keepalive"));

        _timers.PersistentKeepaliveInterval = TimeSpan.Zero;
        Advance(TimeSpan.FromSeconds(100), TimeSpan.FromSeconds(1));
        Assert.Equal(4, _actions.Log.Count(e => e == "keepalive"));
    }

    [Fact]
    public void Key_material_is_wiped_540_seconds_after_the_last_session()
    {
        _timers.OnSessionDerived();
        _time.Advance(TimeSpan.FromSeconds(300));
        _timers.OnSessionDerived();
        _time.Advance(TimeSpan.FromSeconds(539));
        Assert.Empty(_actions.Log);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(["zero"], _actions.Log);
    }
}
