using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Numerics;
using System.Text.RegularExpressions;
using TunTap.IntegrationTests.Cli;
using TunTap.Netlink;
using TunTap.TestKit;

namespace TunTap.IntegrationTests.Emulation;

/// <summary>
/// <c>--corrupt 100%</c> between two UDP sockets: with <c>--corrupt-checksum valid</c> every datagram
/// reaches the receiving application with one bit flipped; with the default (checksums left as they
/// were) the receiving kernel discards them all.
/// </summary>
public sealed partial class EmulateLinkCorruptionTests
{
    private const int Datagrams = 40;
    private static readonly IPEndPoint Receiver = new(IPAddress.Parse("10.200.0.2"), 7777);

    [Fact]
    public async Task Valid_checksum_corruption_reaches_the_application_one_bit_per_datagram()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("emucor", 2);
        var received = await SendAsync(scope.Names[0], scope.Names[1], "valid");

        Assert.Equal(Datagrams, received.Count);
        foreach (var datagram in received)
        {
            Assert.Equal(64, datagram.Length);
            var bits = 0;
            for (var i = 0; i < datagram.Length; i++)
            {
                bits += BitOperations.PopCount((uint)(datagram[i] ^ 0x5A));
            }

            Assert.Equal(1, bits);
        }
    }

    [Fact]
    public async Task Invalid_checksum_corruption_is_discarded_by_the_receiving_kernel()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("emucor", 2);
        var received = await SendAsync(scope.Names[0], scope.Names[1], "invalid");
        Assert.Empty(received);
    }

    private static async Task<List<byte[]>> SendAsync(string a, string b, string checksum)
    {
        await using var emulator = TuntapCli.Start("emulate", "link", "--a", a, "--b", b, "--corrupt", "100%", "--corrupt-checksum", checksum,
            "--no-ipv6", "--stats-interval", "0.2");
        await emulator.WaitForOutputAsync("Ctrl-C stops", TimeSpan.FromSeconds(30));
        using var receiver = NetworkNamespace.Run(b, () => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        receiver.Bind(Receiver);
        using var sender = NetworkNamespace.Run(a, () => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        var payload = new byte[64];
        payload.AsSpan().Fill(0x5A);
        for (var i = 0; i < Datagrams; i++)
        {
            sender.SendTo(payload, Receiver);
        }

        // The receiving kernel has taken (or discarded) each datagram once the emulator wrote them all
        // (or had them refused: a flip in the IP version makes the TUN device reject the write).
        await Wait.UntilAsync(() => Handed(emulator.StandardOutput) == Datagrams, TimeSpan.FromSeconds(30), emulator.Describe);
        var received = new List<byte[]>();
        var buffer = new byte[2048];
        while (received.Count < Datagrams && receiver.Poll(TimeSpan.FromMilliseconds(received.Count == 0 && checksum == "invalid" ? 500 : 5000), SelectMode.SelectRead))
        {
            received.Add(buffer.AsSpan(0, receiver.Receive(buffer)).ToArray());
        }

        var summary = await EmulateLinkCommandTests.StopAsync(emulator);
        Assert.Equal(Datagrams, summary["a->b corrupted"]);
        return received;
    }

    /// <summary>From the last live line: a->b packets written to B's device or refused by it.</summary>
    private static long Handed(string output)
    {
        var matches = HandedFields().Matches(output);
        return matches.Count == 0
            ? -1
            : long.Parse(matches[^1].Groups[1].Value, CultureInfo.InvariantCulture) + long.Parse(matches[^1].Groups[2].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"a->b \([^)]*\): offered=.*? written=(\d+) written-bytes=\d+ rejected=(\d+) ")]
    private static partial Regex HandedFields();
}
