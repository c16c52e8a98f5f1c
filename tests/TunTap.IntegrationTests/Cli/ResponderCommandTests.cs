using System.Globalization;
using TunTap.TestKit;

namespace TunTap.IntegrationTests.Cli;

public sealed class ResponderCommandTests
{
    [Theory]
    [InlineData("tun")]
    [InlineData("tap")]
    public async Task Ping_over_ipv4_and_ipv6_gets_replies_from_the_responder_and_the_pcap_reads_cleanly(string mode)
    {
        Requires.Tool("tshark");
        await using var scope = await NetnsScope.CreateAsync("resp");
        var ns = scope.Names[0];
        var pcap = Path.Combine(Path.GetTempPath(), $"{scope.NewName()}.pcap");
        try
        {
            await using var responder = TuntapCli.Start("responder", "tt-r0", "--mode", mode, "--address", "10.66.0.1/24", "--address", "fd66::1/64", "--pcap", pcap, "--netns", ns, "--stats-interval", "0");
            await responder.WaitForOutputAsync("responder: answering", TimeSpan.FromSeconds(30));

            await CommandOutput.AssertPingAsync(ns, "10.66.0.2");
            await CommandOutput.AssertPingAsync(ns, "fd66::2");
            await CommandOutput.AssertPingAsync(ns, "10.66.0.77");

            responder.Signal(2);
            Assert.Equal(0, await responder.WaitForExitAsync(TimeSpan.FromSeconds(15)));
            var summary = CommandOutput.SummaryOf(responder.StandardOutput);
            Assert.True(summary["replied"] >= 9, responder.StandardOutput);
            Assert.NotEqual(0, (await NetnsScope.ExecAsync(ns, "ip", "link", "show", "tt-r0")).ExitCode);

            var all = await ProcessRunner.RunAsync("tshark", ["-n", "-r", pcap], TimeSpan.FromSeconds(60));
            Assert.Equal(0, all.ExitCode);
            Assert.DoesNotContain("Malformed", all.StandardOutput, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("appears to have been cut short", all.StandardError, StringComparison.Ordinal);
            var frames = all.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
            Assert.Equal(summary["received"] + summary["replied"], frames);

            var echoes = await ProcessRunner.RunAsync("tshark", ["-n", "-r", pcap, "-Y", "icmp.type == 0 || icmp.type == 8 || icmpv6.type == 128 || icmpv6.type == 129"], TimeSpan.FromSeconds(60));
            Assert.Equal(18, echoes.EnsureSuccess().StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        }
        finally
        {
            File.Delete(pcap);
        }
    }

    [Theory]
    [InlineData("tun")]
    [InlineData("tap")]
    public async Task Garbage_and_truncated_frames_are_counted_as_drops_and_it_keeps_answering(string mode)
    {
        await using var scope = await NetnsScope.CreateAsync("resp");
        var ns = scope.Names[0];
        await using var responder = TuntapCli.Start("responder", "tt-g0", "--mode", mode, "--address", "10.67.0.1/24", "--address", "fd67::1/64", "--netns", ns, "--stats-interval", "0");
        await responder.WaitForOutputAsync("responder: answering", TimeSpan.FromSeconds(30));
        await CommandOutput.AssertPingAsync(ns, "10.67.0.2");

        // Raw frames straight onto the device through a packet socket: for a TUN device the bytes
        // are taken as an IP packet, for a TAP device as an Ethernet frame, so there each is given a
        // broadcast Ethernet header with an IP EtherType (random frames for some other MAC or
        // EtherType are well-formed traffic that is not ours: ignored, not dropped).
        var script = """
            import socket, sys, os, random
            random.seed(7)
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            s.bind((sys.argv[1], 0))
            frames = [b'\x45', b'\x45\x00\x00\x54\x00\x00', b'\x60\x00\x00\x00\x00\x40\x3a\x40' + b'\x00' * 10, b'\xff' * 13]
            frames += [bytes(random.getrandbits(8) for _ in range(random.randint(1, 200))) for _ in range(40)]
            # An IPv4 echo request to a responder address whose total length claims more than was sent.
            frames.append(bytes.fromhex('450000ff000040004001' + '0000' + '0a430001' + '0a430002') + b'\x08\x00\x00\x00\x00\x01\x00\x01')
            if sys.argv[2] == 'tap':
                frames = [b'\xff' * 6 + b'\x02\x00\x00\x00\x00\x01' + (b'\x86\xdd' if f[:1] == b'\x60' or i % 2 else b'\x08\x00') + f for i, f in enumerate(frames)]
            sent = 0
            for f in frames:
                try:
                    s.send(f); sent += 1
                except OSError:
                    pass
            print(sent)
            """;
        var result = await ProcessRunner.RunInAsync(ns, "/usr/bin/python3", ["-c", script, "tt-g0", mode], TimeSpan.FromSeconds(30));
        var sent = int.Parse(result.EnsureSuccess().StandardOutput.Trim(), CultureInfo.InvariantCulture);
        Assert.True(sent > 30, $"only {sent} garbage frames could be sent");

        await CommandOutput.AssertPingAsync(ns, "10.67.0.2");
        await CommandOutput.AssertPingAsync(ns, "fd67::2");

        responder.Signal(15);
        Assert.Equal(0, await responder.WaitForExitAsync(TimeSpan.FromSeconds(15)));
        var summary = CommandOutput.SummaryOf(responder.StandardOutput);
        Assert.True(summary["dropped"] >= sent / 2, $"expected most of the {sent} garbage frames to be dropped; summary: {responder.StandardOutput}");
        Assert.True(summary["replied"] >= 9, responder.StandardOutput);
    }



}
