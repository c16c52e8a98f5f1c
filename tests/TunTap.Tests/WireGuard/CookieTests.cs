using Microsoft.Extensions.Time.Testing;
using TunTap.WireGuard;
using TunTap.WireGuard.Messages;
using TunTap.WireGuard.Noise;

namespace TunTap.Tests.WireGuard;

public sealed class CookieTests
{
    private static readonly byte[] Source = [10, 0, 0, 1, 0xca, 0x6c];
    private static readonly byte[] OtherSource = [10, 0, 0, 2, 0xca, 0x6c];

    private readonly FakeTimeProvider _time = new(DateTimeOffset.UnixEpoch.AddDays(20000));
    private readonly NoiseIdentity _initiator = new(WireGuardKey.GeneratePrivateKey());
    private readonly NoiseIdentity _responder = new(WireGuardKey.GeneratePrivateKey());

    private byte[] Initiation(CookieGenerator generator)
    {
        var state = new HandshakeState(_initiator, _responder.PublicKey);
        var message = new byte[HandshakeInitiationMessage.Size];
        NoiseHandshake.CreateInitiation(state, 42, _time.GetUtcNow(), System.Security.Cryptography.RandomNumberGenerator.Fill, message);
        generator.AddMacs(message);
        return message;
    }

    [Fact]
    public void Mac1_is_checked_against_the_receivers_public_key()
    {
        var generator = new CookieGenerator(_responder.PublicKey, _time);
        var message = Initiation(generator);
        Assert.True(new CookieChecker(_responder, _time, System.Security.Cryptography.RandomNumberGenerator.Fill).CheckMac1(message));
        Assert.False(new CookieChecker(_initiator, _time, System.Security.Cryptography.RandomNumberGenerator.Fill).CheckMac1(message));
        message[20] ^= 1;
        Assert.False(new CookieChecker(_responder, _time, System.Security.Cryptography.RandomNumberGenerator.Fill).CheckMac1(message));
    }

    [Fact]
    public void Cookie_reply_lets_the_initiator_add_a_valid_mac2_for_its_address_only()
    {
        var generator = new CookieGenerator(_responder.PublicKey, _time);
        var checker = new CookieChecker(_responder, _time, System.Security.Cryptography.RandomNumberGenerator.Fill);
        var first = Initiation(generator);
        Assert.True(first.AsSpan(HandshakeInitiationMessage.Field.Mac2).IndexOfAnyExcept((byte)0) < 0, "no cookie yet: MAC2 is zero");
        Assert.False(checker.CheckMac2(first, Source));

        var reply = new byte[CookieReplyMessage.Size];
        checker.CreateReply(first, 42, Source, reply);
        Assert.True(CookieReplyMessage.TryCreate(reply, out var view));
        Assert.Equal(42u, view.ReceiverIndex);
        Assert.True(generator.ConsumeReply(reply));
        Assert.False(generator.ConsumeReply(reply)); // bound to the MAC1 of the last message, used once

        var second = Initiation(generator);
        Assert.True(checker.CheckMac1(second));
        Assert.True(checker.CheckMac2(second, Source));
        Assert.False(checker.CheckMac2(second, OtherSource));
    }

    [Fact]
    public void Cookie_reply_for_another_message_is_rejected()
    {
        var generator = new CookieGenerator(_responder.PublicKey, _time);
        var checker = new CookieChecker(_responder, _time, System.Security.Cryptography.RandomNumberGenerator.Fill);
        var first = Initiation(generator);
        var reply = new byte[CookieReplyMessage.Size];
        checker.CreateReply(first, 42, Source, reply);
        _ = Initiation(generator); // a newer message: the reply's AD no longer matches
        Assert.False(generator.ConsumeReply(reply));
    }

    [Fact]
    public void Cookies_expire_after_two_minutes_on_both_sides()
    {
        var generator = new CookieGenerator(_responder.PublicKey, _time);
        var checker = new CookieChecker(_responder, _time, System.Security.Cryptography.RandomNumberGenerator.Fill);
        var reply = new byte[CookieReplyMessage.Size];
        checker.CreateReply(Initiation(generator), 42, Source, reply);
        Assert.True(generator.ConsumeReply(reply));
        _time.Advance(TimeSpan.FromSeconds(119));
        Assert.True(generator.HasFreshCookie);
        Assert.True(checker.CheckMac2(Initiation(generator), Source));
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.False(generator.HasFreshCookie);
        var stale = Initiation(generator);
        Assert.True(stale.AsSpan(HandshakeInitiationMessage.Field.Mac2).IndexOfAnyExcept((byte)0) < 0);
        Assert.False(checker.CheckMac2(stale, Source));
    }
}
