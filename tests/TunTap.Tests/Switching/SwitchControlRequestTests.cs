using TunTap.Switching;

namespace TunTap.Tests.Switching;

public sealed class SwitchControlRequestTests
{
    [Theory]
    [InlineData("port list", SwitchControlCommand.PortList, null)]
    [InlineData("mac", SwitchControlCommand.Mac, null)]
    [InlineData("stats\r", SwitchControlCommand.Stats, null)]
    [InlineData("port add tap:x@ns,vlan=10", SwitchControlCommand.PortAdd, "tap:x@ns,vlan=10")]
    [InlineData("port add qemu:unix:/tmp/a b.sock", SwitchControlCommand.PortAdd, "qemu:unix:/tmp/a b.sock")]
    [InlineData("port del 3", SwitchControlCommand.PortDel, "3")]
    [InlineData("port del tap:x@ns", SwitchControlCommand.PortDel, "tap:x@ns")]
    [InlineData("port unblock 2", SwitchControlCommand.PortUnblock, "2")]
    [InlineData("port unblock qemu:unix:/tmp/vm0.sock", SwitchControlCommand.PortUnblock, "qemu:unix:/tmp/vm0.sock")]
    public void Control_requests_parse_and_format_back_to_the_same_line(string line, SwitchControlCommand command, string? argument)
    {
        Assert.True(SwitchControlRequest.TryParse(line, out var request, out var error), error);
        Assert.Equal(new SwitchControlRequest(command, argument), request);
        Assert.Equal(line.TrimEnd('\r'), request.Format());
    }

    [Theory]
    [InlineData("", "unknown request ''")]
    [InlineData("port", "unknown request 'port'")]
    [InlineData("port add", "unknown request")]
    [InlineData("port add ", "unknown request")]
    [InlineData("port del ", "unknown request")]
    [InlineData("port unblock ", "unknown request")]
    [InlineData("PORT LIST", "unknown request")]
    [InlineData(" stats", "unknown request")]
    [InlineData("stats please", "unknown request")]
    [InlineData("port list\0", "control characters")]
    [InlineData("port add tap:a\nport del 0", "control characters")]
    [InlineData("{\"cmd\":\"stats\"}", "allowed: port add SPEC")]
    public void Garbage_requests_are_errors_naming_the_allowed_forms(string line, string expected)
    {
        Assert.False(SwitchControlRequest.TryParse(line, out var request, out var error));
        Assert.Null(request);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Overlong_and_random_requests_are_rejected_without_throwing()
    {
        Assert.False(SwitchControlRequest.TryParse(new string('a', SwitchControlRequest.MaxLineLength), out _, out var error));
        Assert.Contains("longer than", error, StringComparison.Ordinal);
        var random = new Random(3);
        for (var i = 0; i < 2000; i++)
        {
            var chars = new char[random.Next(0, 40)];
            for (var j = 0; j < chars.Length; j++)
            {
                chars[j] = (char)random.Next(0, 128);
            }

            if (SwitchControlRequest.TryParse(chars, out var request, out _))
            {
                Assert.Equal(new string(chars).TrimEnd('\r'), request.Format());
            }
        }
    }

    [Fact]
    public void Formatting_a_request_without_its_argument_throws()
    {
        Assert.Throws<ArgumentException>(() => new SwitchControlRequest(SwitchControlCommand.PortAdd).Format());
        Assert.Throws<ArgumentException>(() => new SwitchControlRequest(SwitchControlCommand.PortDel, "a\nb").Format());
    }
}
