using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using TunTap.Capture;
using TunTap.IntegrationTests.Cli;
using TunTap.Netlink;
using TunTap.TestKit;

namespace TunTap.IntegrationTests.Emulation;

/// <summary>
/// Seeded runs of <c>tuntap emulate link</c> are reproducible: the same seed and the same packets
/// give byte-identical captures; another seed gives other losses. The packets are UDP datagrams with
/// every header byte fixed (sent through a raw socket), and <c>--no-ipv6</c> keeps the
/// kernel's own IPv6 chatter off the link, so nothing else draws from the generators.
/// </summary>
public sealed partial class EmulateLinkDeterminismTests : IAsyncDisposable
{
    private const int Datagrams = 60;
    private static readonly IPEndPoint Sender = new(IPAddress.Parse("10.200.0.1"), 40000);
    private static readonly IPEndPoint Receiver = new(IPAddress.Parse("10.200.0.2"), 7777);
    private readonly string _directory = Directory.CreateTempSubdirectory("tt-emudet-").FullName;

    public ValueTask DisposeAsync()
    {
        Directory.Delete(_directory, recursive: true);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Same_seed_and_same_datagrams_give_identical_captures_and_another_seed_differs()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("emudet", 2);
        var (a, b) = (scope.Names[0], scope.Names[1]);

        var first = await RunAsync(a, b, "7", "first");
        var second = await RunAsync(a, b, "7", "second");
        var other = await RunAsync(a, b, "8", "other");

        // A sends all of them; B receives those the loss spared (20%: 48 expected, σ 3.1).
        Assert.Equal(Datagrams, first.A.Count);
        Assert.InRange(first.B.Count, 33, 59);
        Assert.Equal(first.A, second.A);
        Assert.Equal(first.B, second.B);
        Assert.Equal(first.A, other.A);
        Assert.NotEqual(first.B, other.B);
    }

    private async Task<(List<string> A, List<string> B)> RunAsync(string a, string b, string seed, string name)
    {
        var pcap = Path.Combine(_directory, name);
        await using (var emulator = TuntapCli.Start("emulate", "link", "--a", a, "--b", b, "--loss", "20%", "--seed", seed, "--no-ipv6", "--pcap", pcap, "--stats-interval", "0.2"))
        {
            await emulator.WaitForOutputAsync("Ctrl-C stops", TimeSpan.FromSeconds(30));
            using var receiver = NetworkNamespace.Run(b, () => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
            receiver.Bind(Receiver);
            using var sender = NetworkNamespace.Run(a, () => new Socket(AddressFamily.InterNetwork, SocketType.Raw, ProtocolType.Udp));
            sender.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.HeaderIncluded, true);
            for (var i = 0; i < Datagrams; i++)
            {
                sender.SendTo(Datagram(i), Receiver);
                await Task.Delay(10, TestContext.Current.CancellationToken);
            }

            // Every datagram has been through the link once the live counters account for all of them.
            await Wait.UntilAsync(() => Accounted(emulator.StandardOutput) == Datagrams, TimeSpan.FromSeconds(30), emulator.Describe);
            var summary = await EmulateLinkCommandTests.StopAsync(emulator);
            Assert.Equal(Datagrams, summary["a->b offered"]);
            Assert.Equal(0, summary["b->a offered"]);
        }

        return (Packets(Path.Combine(pcap, "a.pcap")), Packets(Path.Combine(pcap, "b.pcap")));
    }

    /// <summary>
    /// IPv4/UDP datagram <paramref name="index"/>, every byte fixed (the kernel fills in only the
    /// header checksum; a socket would pick the IP id and the source port itself).
    /// </summary>
    private static byte[] Datagram(int index)
    {
        var packet = new byte[20 + 8 + 64];
        packet[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)packet.Length);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), (ushort)(index + 1));
        packet[6] = 0x40; // DF
        packet[8] = 64;
        packet[9] = 17;
        Sender.Address.GetAddressBytes().CopyTo(packet, 12);
        Receiver.Address.GetAddressBytes().CopyTo(packet, 16);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(20), (ushort)Sender.Port);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(22), (ushort)Receiver.Port);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(24), 8 + 64);
        packet.AsSpan(28).Fill((byte)index); // UDP checksum 0: none (IPv4)
        return packet;
    }

    /// <summary>Packets of a.pcap/b.pcap as hex, timestamps left out.</summary>
    private static List<string> Packets(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new PcapReader(stream);
        var packets = new List<string>();
        for (var guard = 0; guard < 10_000 && reader.TryRead(out var record); guard++)
        {
            packets.Add(Convert.ToHexString(record.Data.Span));
        }

        return packets;
    }

    /// <summary>From the last live line: a->b packets written plus dropped by loss.</summary>
    private static long Accounted(string output)
    {
        var matches = Counters().Matches(output);
        if (matches.Count == 0)
        {
            return -1;
        }

        var last = matches[^1];
        return long.Parse(last.Groups[1].Value, CultureInfo.InvariantCulture) + long.Parse(last.Groups[2].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"a->b \([^)]*\): offered=\d+ delivered=\d+ dropped-loss=(\d+) .*? written=(\d+) ")]
    private static partial Regex Counters();
}
