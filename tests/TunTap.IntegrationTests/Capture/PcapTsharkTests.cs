using TunTap.Capture;
using TunTap.TestKit;

namespace TunTap.IntegrationTests.Capture;

public sealed class PcapTsharkTests
{
    // IPv4/UDP 10.1.2.3:1234 -> 10.4.5.6:7, payload "hi", header checksum filled in, UDP checksum 0.
    private static readonly byte[] Ipv4Udp =
    [
        0x45, 0x00, 0x00, 0x1e, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x5f, 0xc1, 10, 1, 2, 3, 10, 4, 5, 6,
        0x04, 0xd2, 0x00, 0x07, 0x00, 0x0a, 0x00, 0x00, (byte)'h', (byte)'i',
    ];

    [Fact]
    public async Task Tshark_reads_raw_and_ethernet_captures_with_nanosecond_timestamps()
    {
        Requires.Tool("tshark");
        var raw = Path.Combine(Path.GetTempPath(), $"tt-raw-{Guid.NewGuid():N}.pcap");
        var ether = Path.Combine(Path.GetTempPath(), $"tt-eth-{Guid.NewGuid():N}.pcap");
        try
        {
            var when = new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero).AddTicks(1234567);
            await using (var file = File.Create(raw))
            using (var writer = new PcapWriter(file, PcapLinkType.Raw))
            {
                writer.Write(Ipv4Udp, when);
                writer.Write(Ipv4Udp, when.AddMilliseconds(1));
            }

            byte[] frame = [.. new byte[] { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00 }, .. Ipv4Udp];
            await using (var file = File.Create(ether))
            using (var writer = new PcapWriter(file, PcapLinkType.Ethernet))
            {
                writer.Write(frame, when);
            }

            var rawOut = await ProcessRunner.RunAsync("tshark", ["-r", raw, "-T", "fields", "-e", "ip.src", "-e", "ip.dst", "-e", "udp.dstport", "-e", "frame.time_epoch"]);
            rawOut.EnsureSuccess();
            var lines = rawOut.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(2, lines.Length);
            Assert.StartsWith("10.1.2.3\t10.4.5.6\t7\t1795608000.123456700", lines[0], StringComparison.Ordinal);
            Assert.DoesNotContain("error", rawOut.StandardError, StringComparison.OrdinalIgnoreCase);

            var etherOut = await ProcessRunner.RunAsync("tshark", ["-r", ether, "-T", "fields", "-e", "eth.src", "-e", "ip.dst"]);
            etherOut.EnsureSuccess();
            Assert.Equal("02:00:00:00:00:02\t10.4.5.6", etherOut.StandardOutput.Trim());
        }
        finally
        {
            File.Delete(raw);
            File.Delete(ether);
        }
    }
}
