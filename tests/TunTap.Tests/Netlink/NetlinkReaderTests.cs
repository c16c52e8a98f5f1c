using CsCheck;
using TunTap.Netlink;

namespace TunTap.Tests.Netlink;

public sealed class NetlinkReaderTests
{
    private static byte[] TwoMessages()
    {
        var buffer = new byte[256];
        var writer = new NetlinkMessageWriter(buffer);
        writer.BeginMessage(NetlinkProtocol.NewLink, NetlinkProtocol.Multi, 7);
        writer.AppendFixed(NetlinkProtocol.IfInfoSize);
        writer.PutString(NetlinkProtocol.IflaIfName, "abcde");
        writer.EndMessage();
        writer.BeginMessage(NetlinkProtocol.Done, NetlinkProtocol.Multi, 7);
        writer.AppendFixed(4);
        writer.EndMessage();
        return writer.Written.ToArray();
    }

    [Fact]
    public void Reads_every_message_of_a_datagram()
    {
        var reader = new NetlinkMessageReader(TwoMessages());

        Assert.True(reader.TryRead(out var first));
        Assert.Equal(NetlinkProtocol.NewLink, first.Type);
        Assert.Equal(7u, first.Sequence);
        Assert.Equal(NetlinkProtocol.IfInfoSize + 12, first.Payload.Length);
        Assert.True(reader.TryRead(out var second));
        Assert.Equal(NetlinkProtocol.Done, second.Type);
        Assert.False(reader.TryRead(out _));
        Assert.False(reader.IsMalformed);
    }

    [Fact]
    public void A_truncated_message_stops_the_walk_and_is_flagged()
    {
        var datagram = TwoMessages();
        const int firstLength = NetlinkProtocol.HeaderSize + NetlinkProtocol.IfInfoSize + 12;
        for (var cut = 1; cut < datagram.Length; cut++)
        {
            var reader = new NetlinkMessageReader(datagram.AsSpan(0, cut));
            if (cut >= firstLength)
            {
                Assert.True(reader.TryRead(out var first));
                Assert.Equal(NetlinkProtocol.NewLink, first.Type);
            }

            Assert.False(reader.TryRead(out _));
            Assert.Equal(cut != firstLength, reader.IsMalformed);
        }
    }

    [Fact]
    public void A_length_below_the_header_size_is_malformed_not_a_loop()
    {
        var datagram = TwoMessages();
        datagram[0] = 3;
        datagram[1] = datagram[2] = datagram[3] = 0;
        var reader = new NetlinkMessageReader(datagram);

        Assert.False(reader.TryRead(out _));
        Assert.True(reader.IsMalformed);
    }

    [Fact]
    public void A_truncated_attribute_stops_the_walk_and_is_flagged()
    {
        byte[] attributes = [8, 0, 1, 0, 1, 2, 3, 4, 9, 0, 2, 0, 1, 2];
        var reader = new NetlinkAttributeReader(attributes);

        Assert.True(reader.TryRead(out var first));
        Assert.Equal([1, 2, 3, 4], first.Payload.ToArray());
        Assert.False(reader.TryRead(out _));
        Assert.True(reader.IsMalformed);
    }

    [Fact]
    public void Accessors_reject_short_payloads()
    {
        var attribute = new NetlinkAttribute(1, [1, 2]);

        Assert.False(attribute.TryGetU32(out _));
        Assert.True(attribute.TryGetU8(out var b));
        Assert.Equal(1, b);
        Assert.False(new NetlinkAttribute(1, []).TryGetU8(out _));
        Assert.Equal("", new NetlinkAttribute(1, []).GetString());
        Assert.Equal("ab", new NetlinkAttribute(1, "ab"u8).GetString());
    }

    [Fact]
    public void Random_bytes_never_throw_through_any_decoder()
    {
        Gen.Byte.Array[0, 600].Sample(bytes =>
        {
            DecodeEverything(bytes);
            var flags = bytes.Length > 1 ? bytes[0] : (byte)0;
            _ = NetlinkError.TryParse(bytes, (ushort)(flags << 4), out _);
            NetlinkError.ParseDone(bytes, (ushort)(flags << 4));
            Assert.Equal(LinkMessage.TryParse(bytes, out var link), link is not null);
            LinkMessage.ParseTun(bytes);
            Assert.Equal(AddressMessage.TryParse(bytes, out var address), address is not null);
            Assert.Equal(RouteMessage.TryParse(bytes, out var route, out _), route is not null);
            WalkAttributes(bytes, 0);
        }, iter: 20_000);
    }

    [Fact]
    public void Mutated_real_replies_never_throw()
    {
        var captures = new[] { CapturedReplies.TapLink, CapturedReplies.Ipv6Address, CapturedReplies.ConnectedRoute };
        Gen.Select(Gen.Int[0, captures.Length - 1], Gen.Int[0, 2000], Gen.Byte, Gen.Int[0, 2000]).Sample((which, position, value, cut) =>
        {
            var bytes = (byte[])captures[which].Clone();
            bytes[position % bytes.Length] = value;
            var truncated = bytes.AsSpan(0, Math.Min(cut, bytes.Length));
            Assert.Equal(LinkMessage.TryParse(truncated, out var link), link is not null);
            Assert.Equal(AddressMessage.TryParse(truncated, out var address), address is not null);
            Assert.Equal(RouteMessage.TryParse(truncated, out var route, out _), route is not null);
        }, iter: 20_000);
    }

    private static void DecodeEverything(byte[] datagram)
    {
        var reader = new NetlinkMessageReader(datagram);
        var count = 0;
        while (reader.TryRead(out var message))
        {
            Assert.True(++count <= datagram.Length / NetlinkProtocol.HeaderSize);
            switch (message.Type)
            {
                case NetlinkProtocol.Error:
                    _ = NetlinkError.TryParse(message.Payload, message.Flags, out _);
                    break;
                case NetlinkProtocol.NewLink:
                    Assert.Equal(LinkMessage.TryParse(message.Payload, out var link), link is not null);
                    break;
                case NetlinkProtocol.NewAddr:
                    Assert.Equal(AddressMessage.TryParse(message.Payload, out var address), address is not null);
                    break;
                default:
                    Assert.Equal(RouteMessage.TryParse(message.Payload, out var route, out _), route is not null);
                    break;
            }
        }
    }

    private static void WalkAttributes(ReadOnlySpan<byte> bytes, int depth)
    {
        var reader = new NetlinkAttributeReader(bytes);
        var count = 0;
        while (reader.TryRead(out var attribute))
        {
            Assert.True(++count <= bytes.Length / NetlinkProtocol.AttributeHeaderSize);
            attribute.TryGetU32(out _);
            _ = attribute.GetString();
            if (depth < 4)
            {
                WalkAttributes(attribute.Payload, depth + 1);
            }
        }
    }
}
