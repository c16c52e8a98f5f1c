using TunTap.WireGuard.Messages;

namespace TunTap.Tests.WireGuard;

public sealed class MessageTests
{
    [Fact]
    public void Message_sizes_add_up_from_their_fields()
    {
        Assert.Equal(148, HandshakeInitiationMessage.Field.Mac2 + 16);
        Assert.Equal(HandshakeInitiationMessage.Field.EncryptedStatic + 48, HandshakeInitiationMessage.Field.EncryptedTimestamp);
        Assert.Equal(92, HandshakeResponseMessage.Field.Mac2 + 16);
        Assert.Equal(64, CookieReplyMessage.Field.EncryptedCookie + 32);
        Assert.Equal(32, TransportDataMessage.MinimumSize);
        Assert.Equal(116, MessageMacs.Mac1Offset(HandshakeInitiationMessage.Size));
        Assert.Equal(76, MessageMacs.Mac2Offset(HandshakeResponseMessage.Size));
    }

    [Fact]
    public void Views_reject_wrong_lengths_and_types()
    {
        var initiation = new byte[148];
        HandshakeInitiationMessage.Create(initiation).SenderIndex = 0xdeadbeef;
        Assert.True(HandshakeInitiationMessage.TryCreate(initiation, out var view));
        Assert.Equal(0xdeadbeefu, view.SenderIndex);
        Assert.Equal(new byte[] { 1, 0, 0, 0, 0xef, 0xbe, 0xad, 0xde }, initiation[..8]);
        Assert.False(HandshakeInitiationMessage.TryCreate(initiation.AsSpan(0, 147), out _));
        Assert.False(HandshakeResponseMessage.TryCreate(initiation.AsSpan(0, 92), out _));

        initiation[1] = 1; // reserved bytes must be zero
        Assert.Equal(MessageType.None, MessageHeader.ReadType(initiation));
        Assert.False(HandshakeInitiationMessage.TryCreate(initiation, out _));

        Assert.Equal(MessageType.None, MessageHeader.ReadType([4, 0, 0]));
        Assert.False(TransportDataMessage.TryCreate(new byte[31], out _));
    }

    [Fact]
    public void Transport_header_is_little_endian_index_and_counter()
    {
        var buffer = new byte[64];
        var message = TransportDataMessage.Create(buffer, 16, 0x01020304, 0x1122334455667788);
        Assert.Equal(48, message.Buffer.Length);
        Assert.Equal(16, message.Payload.Length);
        Assert.Equal("0400000004030201" + "8877665544332211", Convert.ToHexStringLower(buffer.AsSpan(0, 16)));
        Assert.True(TransportDataMessage.TryCreate(buffer.AsSpan(0, 48), out var parsed));
        Assert.Equal(0x1122334455667788ul, parsed.Counter);
    }

    [Theory]
    [InlineData(0, 1420, 0)]
    [InlineData(1, 1420, 16)]
    [InlineData(16, 1420, 16)]
    [InlineData(17, 1420, 32)]
    [InlineData(1419, 1420, 1420)]
    [InlineData(1420, 1420, 1420)]
    [InlineData(1500, 1420, 1500)]
    [InlineData(17, 0, 32)]
    public void Padding_rounds_to_16_but_never_past_the_mtu(int length, int mtu, int expected) =>
        Assert.Equal(expected, TransportDataMessage.PaddedLength(length, mtu));
}
