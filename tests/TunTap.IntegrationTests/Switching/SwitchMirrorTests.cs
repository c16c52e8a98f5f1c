using System.Buffers.Binary;
using TunTap.IntegrationTests.Cli;
using TunTap.TestKit;

namespace TunTap.IntegrationTests.Switching;

/// <summary>Port mirroring and per-port capture of <c>tuntap switch run</c>, seen by tshark on the mirror port and in our pcap.</summary>
public sealed class SwitchMirrorTests
{
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_namespace_on_the_mirror_port_sees_the_pings_between_two_other_ports_once_each()
    {
        Requires.Tool("tshark");
        await using var scope = await NetnsScope.CreateAsync("swm", 3);
        var (a, b, m) = (scope.Names[0], scope.Names[1], scope.Names[2]);
        var pcap = Path.Combine(Path.GetTempPath(), $"{scope.NewName()}.pcap");
        try
        {
            await using var sw = TuntapCli.Start(
                "switch", "run", scope.NewName(), "--port", $"tap:tt-ma@{a}", "--port", $"tap:tt-mb@{b}", "--port", $"tap:tt-mm@{m}",
                "--mirror", $"0,tap:tt-mb@{b}=2", "--pcap", pcap, "--pcap-ports", $"tap:tt-ma@{a}", "--stats-interval", "0");
            await sw.WaitForOutputAsync("running with 3 ports", Startup);
            Assert.Contains($"mirroring tap:tt-ma@{a}, tap:tt-mb@{b} to tap:tt-mm@{m}", sw.StandardOutput, StringComparison.Ordinal);
            (await NetnsScope.ExecAsync(a, "ip", "addr", "add", "10.97.0.1/24", "dev", "tt-ma")).EnsureSuccess();
            (await NetnsScope.ExecAsync(b, "ip", "addr", "add", "10.97.0.2/24", "dev", "tt-mb")).EnsureSuccess();

            // One line per ICMP frame: its length and type (8 request, 0 reply).
            await using var tshark = ProcessRunner.StartBackground("ip", ["netns", "exec", m, "tshark", "-l", "-n", "-i", "tt-mm", "-f", "icmp", "-T", "fields", "-e", "frame.len", "-e", "icmp.type"]);
            await tshark.WaitForOutputAsync("Capturing on", Startup);

            // tshark says it captures a moment before it does: probe with small pings until one shows.
            bool Probed() => tshark.StandardOutput.Contains("82\t0", StringComparison.Ordinal);
            for (var i = 0; i < 30 && !Probed(); i++)
            {
                await ProcessRunner.RunInAsync(a, "ping", ["-c", "1", "-s", "40", "-W", "2", "10.97.0.2"], TimeSpan.FromSeconds(30));
                for (var j = 0; j < 10 && !Probed(); j++)
                {
                    await Task.Delay(100, TestContext.Current.CancellationToken);
                }
            }

            await tshark.WaitForOutputAsync("82\t0", TimeSpan.FromSeconds(5));
            await SwitchCommandTests.AssertPingAsync(a, "10.97.0.2");

            // A last, larger ping marks the end: every copy of the frames before it is out by then.
            var marker = await ProcessRunner.RunInAsync(a, "ping", ["-c", "1", "-s", "123", "-W", "2", "10.97.0.2"], TimeSpan.FromSeconds(30));
            Assert.True(marker.ExitCode == 0, marker.StandardOutput + marker.StandardError);
            await tshark.WaitForOutputAsync("165\t0", TimeSpan.FromSeconds(30));
            var lines = tshark.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var upToMarker = lines[..(Array.IndexOf(lines, "165\t0") + 1)].Where(l => !l.StartsWith("82\t", StringComparison.Ordinal));
            Assert.Equal(["98\t8", "98\t0", "98\t8", "98\t0", "165\t8", "165\t0"], upToMarker);

            sw.Signal(2);
            Assert.Equal(0, await sw.WaitForExitAsync(TimeSpan.FromSeconds(15)));

            // The pcap of port a alone has its requests (ingress) and the replies (egress), once each.
            Assert.Equal([98, 98, 98, 98, 165, 165], IcmpFrameLengths(pcap).Where(l => l != 82));
            var mirror = SwitchCommandTests.PortSummaries(sw.StandardOutput)[$"tap:tt-mm@{m}"];
            Assert.True(mirror["tx-frames"] >= 6, sw.StandardOutput);
        }
        finally
        {
            File.Delete(pcap);
        }
    }

    [Fact]
    public async Task Mirror_and_capture_port_mistakes_are_one_error_line()
    {
        await using var scope = await NetnsScope.CreateAsync("swme");
        var tap = $"tap:tt-me@{scope.Names[0]}";
        TuntapCli.AssertUserError(await TuntapCli.RunAsync("switch", "run", "swme", "--port", tap, "--mirror", "0=5"), "there is no port 5");
        TuntapCli.AssertUserError(await TuntapCli.RunAsync("switch", "run", "swme", "--port", tap, "--mirror", "0=0"), "cannot mirror to itself");
        TuntapCli.AssertUserError(await TuntapCli.RunAsync("switch", "run", "swme", "--port", tap, "--mirror", "tap:nope=0"), "'tap:nope' names no port");
        TuntapCli.AssertUserError(await TuntapCli.RunAsync("switch", "run", "swme", "--port", tap, "--pcap-ports", "0"), "--pcap-ports needs --pcap");
        TuntapCli.AssertUserError(await TuntapCli.RunAsync("switch", "run", "swme", "--port", tap, "--block-time", "-1"), "--block-time -1 is out of range");
    }

    /// <summary>The lengths of the IPv4 ICMP frames in a pcap file (Ethernet, untagged).</summary>
    private static List<int> IcmpFrameLengths(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var lengths = new List<int>();
        for (var offset = 24; offset + 16 <= bytes.Length;)
        {
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset + 8));
            var frame = bytes.AsSpan(offset + 16, length);
            if (frame.Length > 23 && BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) == 0x0800 && frame[23] == 1)
            {
                lengths.Add(length);
            }

            offset += 16 + length;
        }

        return lengths;
    }
}
