using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using TunTap.WireGuard;
using TunTap.WireGuard.Messages;
using TunTap.WireGuard.Noise;
using TunTap.WireGuard.Transport;

namespace TunTap.Benchmarks;

/// <summary>
/// The WireGuard work per handshake and per packet, on one thread (one core): a whole Noise_IKpsk2
/// handshake with MAC1 (initiation created, MAC1 checked and consumed, response created and
/// consumed, both sides' transport keys derived), and one MTU-sized transport packet sealed by the
/// sender and opened and replay-checked by the receiver, as the device's data path does it.
/// <c>bench/wg.sh</c> turns Mean into handshakes per second and reads Allocated per packet.
/// </summary>
[MemoryDiagnoser]
public class WireGuardBenchmarks : IDisposable
{
    private const int PacketLength = 1420 - 28; // what fills a 1420-byte tunnel MTU once IPv4+UDP come off the iperf3 payload
    private readonly byte[] _initiation = new byte[HandshakeInitiationMessage.Size];
    private readonly byte[] _response = new byte[HandshakeResponseMessage.Size];
    private readonly byte[] _sendKey = new byte[32];
    private readonly byte[] _receiveKey = new byte[32];
    private readonly byte[] _packet = new byte[TransportDataMessage.HeaderSize + 1440 + TransportDataMessage.TagSize];
    private NoiseIdentity _responder = null!;
    private HandshakeState _initiatorState = null!;
    private HandshakeState _responderState = null!;
    private CookieGenerator _initiatorMacs = null!;
    private CookieChecker _responderMacs = null!;
    private Keypair _sender = null!;
    private Keypair _receiver = null!;
    private DateTimeOffset _now = DateTimeOffset.UnixEpoch;

    [GlobalSetup]
    public void Setup()
    {
        var initiator = new NoiseIdentity(WireGuardKey.GeneratePrivateKey());
        _responder = new NoiseIdentity(WireGuardKey.GeneratePrivateKey());
        _initiatorState = new HandshakeState(initiator, _responder.PublicKey);
        _responderState = new HandshakeState(_responder, initiator.PublicKey);
        _initiatorMacs = new CookieGenerator(_responder.PublicKey, TimeProvider.System);
        _responderMacs = new CookieChecker(_responder, TimeProvider.System, RandomNumberGenerator.Fill);
        RandomNumberGenerator.Fill(_sendKey);
        _sender = new Keypair(_sendKey, _receiveKey, isInitiator: true, 1, 2, 0);
        _receiver = new Keypair(_receiveKey, _sendKey, isInitiator: false, 2, 1, 0);
        RandomNumberGenerator.Fill(_packet.AsSpan(TransportDataMessage.HeaderSize, PacketLength));
    }

    public void Dispose()
    {
        _sender.Dispose();
        _receiver.Dispose();
        GC.SuppressFinalize(this);
    }

    [Benchmark]
    public int Handshake()
    {
        // Each initiation a second later than the last: newer timestamp, outside the flood interval.
        _now = _now.AddSeconds(1);
        Check(NoiseHandshake.CreateInitiation(_initiatorState, 1, _now, RandomNumberGenerator.Fill, _initiation));
        _initiatorMacs.AddMacs(_initiation);
        if (!_responderMacs.CheckMac1(_initiation))
        {
            throw new InvalidOperationException("MAC1 did not verify");
        }

        Check(NoiseHandshake.ConsumeInitiation(_responder, _initiation, _ => _responderState, _now, out _));
        Check(NoiseHandshake.CreateResponse(_responderState, 2, RandomNumberGenerator.Fill, _response));
        Check(NoiseHandshake.ConsumeResponse(_initiatorState, _response));
        Check(NoiseHandshake.DeriveTransportKeys(_initiatorState, _sendKey, _receiveKey, out _));
        Check(NoiseHandshake.DeriveTransportKeys(_responderState, _receiveKey, _sendKey, out _));
        return _sendKey[0];
    }

    [Benchmark]
    public int Transport_packet_seal_and_open()
    {
        _sender.TryClaimCounter(out var counter);
        var padded = TransportDataMessage.PaddedLength(PacketLength, 1420);
        var sealedMessage = TransportDataMessage.Create(_packet, padded, _sender.RemoteIndex, counter);
        _sender.Send.Seal(counter, sealedMessage.Payload, sealedMessage.Tag);
        var length = sealedMessage.Buffer.Length;

        if (!TransportDataMessage.TryCreate(_packet.AsSpan(0, length), out var received) ||
            !_receiver.Receive.Open(received.Counter, received.Payload, received.Tag) ||
            !_receiver.TryAcceptCounter(received.Counter))
        {
            throw new InvalidOperationException("the packet did not open");
        }

        return length;
    }

    private static void Check(HandshakeError error)
    {
        if (error != HandshakeError.None)
        {
            throw new InvalidOperationException($"handshake step failed: {error}");
        }
    }
}
