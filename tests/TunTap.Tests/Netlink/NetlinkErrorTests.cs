using System.Buffers.Binary;
using TunTap.Netlink;

namespace TunTap.Tests.Netlink;

public sealed class NetlinkErrorTests
{
    // An NLMSG_ERROR payload as the kernel builds it: errno, the echoed request header (and its
    // payload unless capped), then extended-ack attributes.
    private static byte[] ErrorPayload(int code, int echoedPayload, bool capped, string? text, uint? offset)
    {
        var buffer = new byte[512];
        BinaryPrimitives.WriteInt32LittleEndian(buffer, code);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(4), (uint)(NetlinkProtocol.HeaderSize + echoedPayload));
        var length = 4 + NetlinkProtocol.HeaderSize + (capped ? 0 : NetlinkMessageWriter.Align(echoedPayload));
        var writer = new NetlinkMessageWriter(buffer.AsSpan(length));
        if (text is not null)
        {
            writer.PutString(NetlinkProtocol.ErrorAttributeMessage, text);
        }

        if (offset is { } value)
        {
            writer.PutU32(NetlinkProtocol.ErrorAttributeOffset, value);
        }

        return buffer[..(length + writer.Length)];
    }

    [Fact]
    public void Capped_error_with_extended_ack_yields_errno_text_and_offset()
    {
        var payload = ErrorPayload(-22, 24, capped: true, "mtu greater than device maximum", 36);

        Assert.True(NetlinkError.TryParse(payload, NetlinkProtocol.Capped | NetlinkProtocol.AckTlvs, out var error));

        Assert.Equal(new NetlinkError(Errno.EINVAL, "mtu greater than device maximum", 36), error);
        Assert.False(error.IsAck);
    }

    [Fact]
    public void Uncapped_error_skips_the_echoed_request_before_the_attributes()
    {
        var payload = ErrorPayload(-17, 26, capped: false, "exists", null);

        Assert.True(NetlinkError.TryParse(payload, NetlinkProtocol.AckTlvs, out var error));

        Assert.Equal(Errno.EEXIST, error.ErrorNumber);
        Assert.Equal("exists", error.KernelMessage);
    }

    [Fact]
    public void An_ack_has_errno_zero_and_no_text()
    {
        var payload = ErrorPayload(0, 16, capped: true, null, null);

        Assert.True(NetlinkError.TryParse(payload, NetlinkProtocol.Capped, out var error));

        Assert.True(error.IsAck);
        Assert.Null(error.KernelMessage);
    }

    [Fact]
    public void Attributes_are_ignored_without_the_ack_tlvs_flag_and_short_payloads_fail()
    {
        var payload = ErrorPayload(-1, 16, capped: true, "ignored", null);

        Assert.True(NetlinkError.TryParse(payload, NetlinkProtocol.Capped, out var error));
        Assert.Equal(new NetlinkError(Errno.EPERM, null, null), error);
        Assert.False(NetlinkError.TryParse([1, 2, 3], 0, out _));
    }

    [Fact]
    public void Done_of_a_failed_dump_carries_the_errno()
    {
        var done = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(done, -Errno.EOPNOTSUPP);

        Assert.Equal(Errno.EOPNOTSUPP, NetlinkError.ParseDone(done, 0).ErrorNumber);
        Assert.Equal(0, NetlinkError.ParseDone([], 0).ErrorNumber);
    }

    [Fact]
    public void Exception_names_operation_problem_errno_and_kernel_text()
    {
        var error = NetlinkException.From("set MTU of va to 70000", new NetlinkError(Errno.EINVAL, "mtu greater than device maximum", null), "MTU 70000 is out of range for va", "pick another");

        Assert.Equal("set MTU of va to 70000: MTU 70000 is out of range for va (EINVAL: mtu greater than device maximum)", error.Message);
        Assert.Equal("set MTU of va to 70000", error.Operation);
        Assert.Equal(Errno.EINVAL, error.ErrorNumber);
        Assert.Equal("pick another", error.Hint);
        Assert.IsAssignableFrom<SystemCallException>(error);
    }

    [Fact]
    public void Exception_without_a_known_problem_keeps_the_errno_text_and_the_permission_hint()
    {
        var error = NetlinkException.From("add route 10.0.0.0/8 dev va", new NetlinkError(Errno.EPERM, null, null));

        Assert.Equal("add route 10.0.0.0/8 dev va: EPERM (Operation not permitted)", error.Message);
        Assert.Contains("CAP_NET_ADMIN", error.Hint, StringComparison.Ordinal);
    }
}
