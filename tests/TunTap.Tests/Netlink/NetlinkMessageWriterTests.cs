using System.Buffers.Binary;
using CsCheck;
using TunTap.Netlink;

namespace TunTap.Tests.Netlink;

public sealed class NetlinkMessageWriterTests
{
    [Fact]
    public void Message_header_carries_length_type_flags_sequence_and_port()
    {
        var buffer = new byte[64];
        var writer = new NetlinkMessageWriter(buffer);
        writer.BeginMessage(NetlinkProtocol.GetLink, NetlinkProtocol.Request | NetlinkProtocol.Ack, 0x01020304, 77);
        writer.AppendFixed(NetlinkProtocol.IfInfoSize)[0] = 9;
        var length = writer.EndMessage();

        Assert.Equal(32, length);
        Assert.Equal(32, writer.Length);
        Assert.Equal(32u, BinaryPrimitives.ReadUInt32LittleEndian(buffer));
        Assert.Equal(NetlinkProtocol.GetLink, BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(4)));
        Assert.Equal(5, BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(6)));
        Assert.Equal(0x01020304u, BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(8)));
        Assert.Equal(77u, BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(12)));
        Assert.Equal(9, buffer[16]);
    }

    [Theory]
    [InlineData("abc", 8, 8)]
    [InlineData("abcd", 9, 12)]
    [InlineData("", 5, 8)]
    [InlineData("tap-fifteen-chr", 20, 20)]
    public void String_attributes_are_nul_terminated_and_padded_to_four_bytes(string value, int attributeLength, int paddedLength)
    {
        var buffer = new byte[64];
        buffer.AsSpan().Fill(0xEE);
        var writer = new NetlinkMessageWriter(buffer);
        writer.PutString(NetlinkProtocol.IflaIfName, value);

        Assert.Equal(paddedLength, writer.Length);
        Assert.Equal(attributeLength, BinaryPrimitives.ReadUInt16LittleEndian(buffer));
        Assert.Equal(NetlinkProtocol.IflaIfName, BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(2)));
        Assert.Equal(System.Text.Encoding.UTF8.GetBytes(value), buffer.AsSpan(4, value.Length).ToArray());
        Assert.All(buffer[(4 + value.Length)..paddedLength], b => Assert.Equal(0, b));
    }

    [Fact]
    public void Nested_attributes_cover_their_children_and_read_back()
    {
        var buffer = new byte[128];
        var writer = new NetlinkMessageWriter(buffer);
        var outer = writer.BeginNested(NetlinkProtocol.IflaLinkInfo, markNested: true);
        writer.PutString(NetlinkProtocol.IflaInfoKind, "veth");
        var inner = writer.BeginNested(NetlinkProtocol.IflaInfoData);
        writer.PutU8(7, 1);
        writer.PutU32(8, 0xAABBCCDD);
        writer.EndNested(inner);
        writer.EndNested(outer);
        writer.PutU16(99, 0x1234);

        var reader = new NetlinkAttributeReader(writer.Written);
        Assert.True(reader.TryRead(out var linkInfo));
        Assert.Equal(NetlinkProtocol.IflaLinkInfo, linkInfo.Type);
        Assert.True(linkInfo.IsMarkedNested);
        Assert.Equal(4 + 12 + 4 + 8 + 8, BinaryPrimitives.ReadUInt16LittleEndian(buffer));
        var children = linkInfo.Nested;
        Assert.True(children.TryRead(out var kind));
        Assert.Equal("veth", kind.GetString());
        Assert.True(children.TryRead(out var data));
        Assert.False(data.IsMarkedNested);
        var grandChildren = data.Nested;
        Assert.True(grandChildren.TryRead(out var u8));
        Assert.True(u8.TryGetU8(out var one));
        Assert.Equal(1, one);
        Assert.True(grandChildren.TryRead(out var u32));
        Assert.True(u32.TryGetU32(out var value));
        Assert.Equal(0xAABBCCDDu, value);
        Assert.False(grandChildren.TryRead(out _));
        Assert.False(children.TryRead(out _));
        Assert.True(reader.TryRead(out var last));
        Assert.Equal(99, last.Type);
        Assert.Equal([0x34, 0x12], last.Payload.ToArray());
        Assert.False(reader.TryRead(out _));
        Assert.False(reader.IsMalformed);
    }

    [Fact]
    public void Running_out_of_room_is_an_error_not_an_overrun()
    {
        var buffer = new byte[40];
        Assert.Throws<InvalidOperationException>(() =>
        {
            var writer = new NetlinkMessageWriter(buffer.AsSpan(0, 16));
            writer.PutString(1, "this is longer than sixteen bytes");
        });
        Assert.All(buffer[16..], b => Assert.Equal(0, b));
    }

    [Fact]
    public void Random_attribute_lists_round_trip_with_alignment()
    {
        var attribute = Gen.Select(Gen.UShort[0, NetlinkProtocol.AttributeTypeMask], Gen.Byte.Array[0, 40]);
        Gen.Select(attribute.List[0, 12], Gen.Bool).Sample((attributes, nest) =>
        {
            var buffer = new byte[2048];
            var writer = new NetlinkMessageWriter(buffer);
            writer.BeginMessage(NetlinkProtocol.NewLink, NetlinkProtocol.Request, 1);
            var start = nest ? writer.BeginNested(5) : -1;
            foreach (var (type, payload) in attributes)
            {
                writer.PutAttribute(type, payload);
                Assert.Equal(0, writer.Length % 4);
            }

            if (nest)
            {
                writer.EndNested(start);
            }

            writer.EndMessage();

            var messages = new NetlinkMessageReader(writer.Written);
            Assert.True(messages.TryRead(out var message));
            Assert.False(messages.TryRead(out _));
            Assert.Equal(writer.Length, message.Payload.Length + NetlinkProtocol.HeaderSize);
            var reader = new NetlinkAttributeReader(message.Payload);
            if (nest)
            {
                Assert.True(reader.TryRead(out var container));
                Assert.Equal(5, container.Type);
                Assert.False(reader.TryRead(out _));
                reader = container.Nested;
            }

            foreach (var (type, payload) in attributes)
            {
                Assert.True(reader.TryRead(out var read));
                Assert.Equal(type, read.Type);
                Assert.Equal(payload, read.Payload.ToArray());
            }

            Assert.False(reader.TryRead(out _));
            Assert.False(reader.IsMalformed);
        });
    }
}
