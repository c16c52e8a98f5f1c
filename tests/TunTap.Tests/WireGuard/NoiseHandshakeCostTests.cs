using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;
using TunTap.WireGuard;
using TunTap.WireGuard.Messages;
using TunTap.WireGuard.Noise;

namespace TunTap.Tests.WireGuard;

/// <summary>
/// What a handshake costs and whether its per-thread caches (BLAKE2s digests) stay correct when
/// handshakes run on many threads at once, as the device does beside its data path.
/// </summary>
public sealed class NoiseHandshakeCostTests
{
    [Fact]
    public void A_whole_handshake_with_mac1_allocates_under_2_KB()
    {
        var run = new HandshakeRun();
        run.Complete(); // first use creates each thread's digests and JIT-compiles the code
        run.Complete();

        const int Handshakes = 20;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Handshakes; i++)
        {
            run.Complete();
        }

        var perHandshake = (GC.GetAllocatedBytesForCurrentThread() - before) / Handshakes;
        Assert.InRange(perHandshake, 0, 2048);
    }

    [Fact]
    public async Task Handshakes_on_many_threads_at_once_all_derive_matching_keys()
    {
        const int Threads = 6;
        const int HandshakesPerThread = 25;
        var tasks = new Task<int>[Threads];
        for (var t = 0; t < Threads; t++)
        {
            tasks[t] = Task.Factory.StartNew(
                () =>
                {
                    var run = new HandshakeRun();
                    var completed = 0;
                    for (var i = 0; i < HandshakesPerThread; i++)
                    {
                        run.Complete();
                        completed++;
                    }

                    return completed;
                },
                TestContext.Current.CancellationToken,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
        }

        var results = await Task.WhenAll(tasks);
        Assert.All(results, completed => Assert.Equal(HandshakesPerThread, completed));
    }

    // Two identities with a PSK, MAC1 on both messages, both sides' keys derived and compared.
    private sealed class HandshakeRun
    {
        private readonly NoiseIdentity _initiator = new(WireGuardKey.GeneratePrivateKey());
        private readonly NoiseIdentity _responder = new(WireGuardKey.GeneratePrivateKey());
        private readonly HandshakeState _atInitiator;
        private readonly HandshakeState _atResponder;
        private readonly CookieGenerator _toResponder;
        private readonly CookieGenerator _toInitiator;
        private readonly CookieChecker _responderChecker;
        private readonly CookieChecker _initiatorChecker;
        private readonly Func<WireGuardKey, HandshakeState?> _findInitiator;
        private readonly byte[] _initiation = new byte[HandshakeInitiationMessage.Size];
        private readonly byte[] _response = new byte[HandshakeResponseMessage.Size];
        private readonly byte[] _initiatorSend = new byte[32];
        private readonly byte[] _initiatorReceive = new byte[32];
        private readonly byte[] _responderSend = new byte[32];
        private readonly byte[] _responderReceive = new byte[32];
        private DateTimeOffset _now = DateTimeOffset.UnixEpoch.AddDays(20000);

        public HandshakeRun()
        {
            var psk = WireGuardKey.GeneratePrivateKey();
            var time = new FakeTimeProvider(_now);
            _atInitiator = new HandshakeState(_initiator, _responder.PublicKey, psk);
            _atResponder = new HandshakeState(_responder, _initiator.PublicKey, psk);
            _toResponder = new CookieGenerator(_responder.PublicKey, time);
            _toInitiator = new CookieGenerator(_initiator.PublicKey, time);
            _responderChecker = new CookieChecker(_responder, time, RandomNumberGenerator.Fill);
            _initiatorChecker = new CookieChecker(_initiator, time, RandomNumberGenerator.Fill);
            var initiatorKey = _initiator.PublicKey;
            _findInitiator = key => key == initiatorKey ? _atResponder : null;
        }

        public void Complete()
        {
            _now = _now.AddSeconds(1);
            Check(NoiseHandshake.CreateInitiation(_atInitiator, 1, _now, RandomNumberGenerator.Fill, _initiation));
            _toResponder.AddMacs(_initiation);
            Check(_responderChecker.CheckMac1(_initiation) ? HandshakeError.None : HandshakeError.DecryptionFailed);
            Check(NoiseHandshake.ConsumeInitiation(_responder, _initiation, _findInitiator, _now, out _));
            Check(NoiseHandshake.CreateResponse(_atResponder, 2, RandomNumberGenerator.Fill, _response));
            _toInitiator.AddMacs(_response);
            Check(_initiatorChecker.CheckMac1(_response) ? HandshakeError.None : HandshakeError.DecryptionFailed);
            Check(NoiseHandshake.ConsumeResponse(_atInitiator, _response));
            Check(NoiseHandshake.DeriveTransportKeys(_atInitiator, _initiatorSend, _initiatorReceive, out _));
            Check(NoiseHandshake.DeriveTransportKeys(_atResponder, _responderSend, _responderReceive, out _));
            // Not Assert.Equal: comparing without allocating keeps the allocation test about the handshake.
            if (!_initiatorSend.AsSpan().SequenceEqual(_responderReceive) ||
                !_initiatorReceive.AsSpan().SequenceEqual(_responderSend) ||
                _initiatorSend.AsSpan().SequenceEqual(_initiatorReceive))
            {
                Assert.Fail("the two sides derived different transport keys");
            }
        }

        private static void Check(HandshakeError error)
        {
            if (error != HandshakeError.None)
            {
                Assert.Fail($"handshake step failed: {error}");
            }
        }
    }
}
