using TunTap.Switching.Dhcp;
using TunTap.Wire;
using static TunTap.Tests.Switching.Dhcp.DhcpFrames;

namespace TunTap.Tests.Switching.Dhcp;

public sealed class DhcpMessageTests
{
    [Fact]
    public void Message_view_reads_a_discover_built_by_scapy()
    {
        var frame = Convert.FromHexString(ScapyDiscover);
        Assert.True(EthernetFrame.TryCreate((ReadOnlySpan<byte>)frame, out var ethernet));
        Assert.True(Ipv4Packet.TryCreate(ethernet.ReadOnlyPayload, out var ip));
        Assert.True(UdpDatagram.TryCreate(ip.ReadOnlyPayload, out var udp));
        Assert.True(DhcpMessage.TryCreate(udp.ReadOnlyPayload, out var message));

        Assert.Equal(DhcpMessage.BootRequest, message.Op);
        Assert.Equal(1, message.HardwareType);
        Assert.Equal(6, message.HardwareLength);
        Assert.Equal(0x1234abcdu, message.TransactionId);
        Assert.False(message.Broadcast);
        Assert.Equal(0u, message.ClientAddress);
        Assert.Equal("52:54:00:12:34:56", message.ClientMac.ToString());
        Assert.Equal(DhcpMessageType.Discover, message.MessageType);
        Assert.Equal(Ip("10.0.0.150"), message.GetAddressOption(DhcpOptionCode.RequestedAddress));
        Assert.True(message.TryGetOption(DhcpOptionCode.HostName, out var host));
        Assert.Equal("vm1"u8.ToArray(), host.ToArray());
        Assert.True(message.TryGetOption(DhcpOptionCode.ParameterRequestList, out var list));
        Assert.Equal(new byte[] { 1, 3, 6, 51, 54 }, list.ToArray());
        Assert.False(message.TryGetOption(DhcpOptionCode.ServerIdentifier, out _));
        Assert.Equal(0u, message.GetAddressOption(DhcpOptionCode.ServerIdentifier));
    }

    [Fact]
    public void Message_view_rejects_short_messages_plain_bootp_and_options_past_the_end()
    {
        var good = Client(DhcpMessageType.Discover, Mac(1)).AsSpan(42).ToArray();
        Assert.Equal(WireError.None, DhcpMessage.Validate(good));
        Assert.Equal(WireError.Truncated, DhcpMessage.Validate(good.AsSpan(0, 239)));

        var bootp = good.ToArray();
        bootp[DhcpMessage.Field.MagicCookie] = 0;
        Assert.Equal(WireError.Unsupported, DhcpMessage.Validate(bootp));

        // Option 12 says 200 bytes follow, but the message ends after 10.
        var overrun = good.AsSpan(0, 250).ToArray();
        overrun[240] = DhcpOptionCode.HostName;
        overrun[241] = 200;
        Assert.Equal(WireError.Malformed, DhcpMessage.Validate(overrun));
        Assert.False(DhcpMessage.TryCreate((ReadOnlySpan<byte>)overrun, out _));

        // A length byte as the last byte.
        var dangling = good.AsSpan(0, 241).ToArray();
        dangling[240] = DhcpOptionCode.HostName;
        Assert.Equal(WireError.Malformed, DhcpMessage.Validate(dangling));

        // Pads only, no End: accepted, nothing found.
        var pads = new byte[260];
        good.AsSpan(0, 240).CopyTo(pads);
        Assert.True(DhcpMessage.TryCreate((ReadOnlySpan<byte>)pads, out var padded));
        Assert.Equal(DhcpMessageType.None, padded.MessageType);
    }

    [Fact]
    public void Options_in_the_file_field_are_found_when_option_52_says_so()
    {
        var message = Client(DhcpMessageType.Discover, Mac(1)).AsSpan(42).ToArray();
        var options = message.AsSpan(DhcpMessage.Field.Options);
        options.Clear();
        options[0] = DhcpOptionCode.OptionOverload;
        options[1] = 1;
        options[2] = 1; // file holds options
        options[3] = DhcpOptionCode.End;
        var file = message.AsSpan(DhcpMessage.Field.BootFile);
        file[0] = DhcpOptionCode.MessageType;
        file[1] = 1;
        file[2] = (byte)DhcpMessageType.Request;
        file[3] = DhcpOptionCode.End;

        Assert.True(DhcpMessage.TryCreate((ReadOnlySpan<byte>)message, out var view));
        Assert.Equal(DhcpMessageType.Request, view.MessageType);

        options[2] = 2; // sname only: the file's option is not seen
        Assert.True(DhcpMessage.TryCreate((ReadOnlySpan<byte>)message, out view));
        Assert.Equal(DhcpMessageType.None, view.MessageType);
    }

    [Fact]
    public void Option_writer_appends_code_length_value_and_refuses_what_does_not_fit()
    {
        var buffer = new byte[12];
        var writer = new DhcpOptionWriter(buffer);
        writer.WriteByte(DhcpOptionCode.MessageType, 5);
        writer.WriteUInt32(DhcpOptionCode.LeaseTime, 3600);
        writer.WriteEnd();
        Assert.Equal(10, writer.Length);
        Assert.Equal(new byte[] { 53, 1, 5, 51, 4, 0, 0, 0x0e, 0x10, 255, 0, 0 }, buffer);

        var full = new DhcpOptionWriter(new byte[4]);
        var threw = false;
        try
        {
            full.WriteUInt32(DhcpOptionCode.LeaseTime, 1);
        }
        catch (ArgumentException)
        {
            threw = true;
        }

        Assert.True(threw);
    }
}
