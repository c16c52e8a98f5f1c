using System.Buffers.Binary;
using System.Globalization;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using TunTap.IntegrationTests.Cli;
using TunTap.TestKit;

namespace TunTap.IntegrationTests.Switching;

public sealed partial class SwitchCommandTests
{
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Three_namespaces_on_tap_ports_all_ping_each_other_and_the_taps_are_removed_at_exit()
    {
        await using var scope = await NetnsScope.CreateAsync("sw", 3);
        var pcap = Path.Combine(Path.GetTempPath(), $"{scope.NewName()}.pcap");
        try
        {
            await using var sw = TuntapCli.Start(["switch", "run", scope.NewName(), .. PortArgs(scope), "--pcap", pcap, "--stats-interval", "0"]);
            await sw.WaitForOutputAsync("running with 3 ports", Startup);
            await AddressAsync(scope, "10.77.0");

            for (var from = 0; from < 3; from++)
            {
                for (var to = 0; to < 3; to++)
                {
                    if (from != to)
                    {
                        await AssertPingAsync(scope.Names[from], $"10.77.0.{to + 1}");
                    }
                }
            }

            sw.Signal(2);
            Assert.Equal(0, await sw.WaitForExitAsync(TimeSpan.FromSeconds(15)));
            var summary = PortSummaries(sw.StandardOutput);
            Assert.Equal(3, summary.Count);
            foreach (var (port, values) in summary)
            {
                // Each namespace sent 2 x 3 echo requests and 2 x 3 replies, plus ARP.
                Assert.True(values["rx-frames"] >= 12, $"{port}: {sw.StandardOutput}");
                Assert.True(values["tx-frames"] >= 12, $"{port}: {sw.StandardOutput}");
                Assert.Equal(0, values["dropped"]);
            }

            Assert.Contains("macs: 3 learned", sw.StandardOutput, StringComparison.Ordinal);
            for (var i = 0; i < 3; i++)
            {
                Assert.Contains($"tap:tt-sw{i}@{scope.Names[i]}: removed", sw.StandardOutput, StringComparison.Ordinal);
                Assert.NotEqual(0, (await NetnsScope.ExecAsync(scope.Names[i], "ip", "link", "show", $"tt-sw{i}")).ExitCode);
            }

            var rx = summary.Values.Sum(v => v["rx-frames"]);
            Assert.Equal(rx, PcapRecordCount(pcap));
        }
        finally
        {
            File.Delete(pcap);
        }
    }

    [Fact]
    public async Task A_qemu_stream_client_gets_arp_answers_and_garbage_only_costs_it_the_connection()
    {
        await using var scope = await NetnsScope.CreateAsync("swq", 2);
        var socketPath = Path.Combine(Path.GetTempPath(), $"{scope.NewName()}.sock");
        await using var sw = TuntapCli.Start(["switch", "run", scope.NewName(), .. PortArgs(scope), "--port", $"qemu:unix:{socketPath}", "--stats-interval", "0"]);
        await sw.WaitForOutputAsync("running with 3 ports", Startup);
        await AddressAsync(scope, "10.78.0");

        using (var vm = await ConnectAsync(socketPath))
        {
            await SendFrameAsync(vm, ArpRequest(0x99, "10.78.0.99", "10.78.0.1"));
            var reply = await ReceiveFrameAsync(vm);
            Assert.Equal(0x0806, BinaryPrimitives.ReadUInt16BigEndian(reply.AsSpan(12)));
            Assert.Equal(2, BinaryPrimitives.ReadUInt16BigEndian(reply.AsSpan(20))); // ARP reply
            Assert.Equal(Mac(0x99), reply[..6]);
            Assert.Equal(new byte[] { 10, 78, 0, 1 }, reply[28..32]); // sender: the namespace's address

            await vm.SendAsync(new byte[] { 0x7f, 0xff, 0xff, 0xff, 0, 1, 2, 3 }, SocketFlags.None);
            await sw.WaitForOutputAsync("dropped the connection: length prefix 2147483647", TimeSpan.FromSeconds(10));
        }

        // The switch runs on: the namespaces still reach each other, and a new VM gets the port back.
        await AssertPingAsync(scope.Names[0], "10.78.0.2");
        using (var vm = await ConnectAsync(socketPath))
        {
            await SendFrameAsync(vm, ArpRequest(0x98, "10.78.0.98", "10.78.0.2"));
            var reply = await ReceiveFrameAsync(vm);
            Assert.Equal(new byte[] { 10, 78, 0, 2 }, reply[28..32]);
        }

        sw.Signal(15);
        Assert.Equal(0, await sw.WaitForExitAsync(TimeSpan.FromSeconds(15)));
        var qemu = PortSummaries(sw.StandardOutput)[$"qemu:unix:{socketPath}"];
        Assert.Equal(2, qemu["rx-frames"]);
        Assert.True(qemu["tx-frames"] >= 2, sw.StandardOutput);
        Assert.False(File.Exists(socketPath));
    }

    [Fact]
    public async Task Vlans_isolate_access_ports_and_a_trunk_peer_reaches_each_vlan_with_its_tag()
    {
        await using var scope = await NetnsScope.CreateAsync("swv", 2);
        var (red, blue) = (scope.Names[0], scope.Names[1]);
        var socketPath = Path.Combine(Path.GetTempPath(), $"{scope.NewName()}.sock");
        await using var sw = TuntapCli.Start(
            "switch", "run", scope.NewName(), "--port", $"tap:tt-sw0@{red},vlan=10", "--port", $"tap:tt-sw1@{blue},vlan=20",
            "--port", $"qemu:unix:{socketPath},trunk=10,20", "--stats-interval", "0");
        await sw.WaitForOutputAsync("running with 3 ports", Startup);

        // red and blue share one subnet but not one VLAN.
        await AddressAsync(scope, "10.79.0");
        var leak = await ProcessRunner.RunInAsync(red, "ping", ["-c", "2", "-i", "0.2", "-W", "1", "10.79.0.2"], TimeSpan.FromSeconds(30));
        Assert.NotEqual(0, leak.ExitCode);

        // The trunk peer (a VM with 802.1Q interfaces) reaches each VLAN with its tag; the access
        // ports see untagged frames (the kernel would not answer tagged ones on a plain TAP).
        using var vm = await ConnectAsync(socketPath);
        await SendFrameAsync(vm, Tagged(ArpRequest(0x97, "10.79.0.97", "10.79.0.1"), 10));
        var fromRed = await ReceiveFrameAsync(vm);
        Assert.Equal(10, VlanOf(fromRed));
        Assert.Equal(new byte[] { 10, 79, 0, 1 }, fromRed[32..36]);

        await SendFrameAsync(vm, Tagged(ArpRequest(0x97, "10.79.0.97", "10.79.0.2"), 20));
        var fromBlue = await ReceiveFrameAsync(vm);
        Assert.Equal(20, VlanOf(fromBlue));
        Assert.Equal(new byte[] { 10, 79, 0, 2 }, fromBlue[32..36]);

        // Asking for blue's address in VLAN 10 reaches only red, which does not answer for it.
        await SendFrameAsync(vm, Tagged(ArpRequest(0x96, "10.79.0.96", "10.79.0.2"), 10));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await ReceiveFrameAsync(vm, TimeSpan.FromSeconds(2)));

        sw.Signal(2);
        Assert.Equal(0, await sw.WaitForExitAsync(TimeSpan.FromSeconds(15)));
        var summary = PortSummaries(sw.StandardOutput);
        Assert.Equal(3, summary[$"qemu:unix:{socketPath}"]["rx-frames"]);
        Assert.False(summary[$"qemu:unix:{socketPath}"].ContainsKey("dropped-vlan-not-allowed"), sw.StandardOutput);
        Assert.True(summary[$"tap:tt-sw1@{blue}"]["tx-frames"] >= 1, sw.StandardOutput);
    }

    [Theory]
    [InlineData("eth0", "allowed: tap:IFNAME[@NETNS], qemu:unix:PATH, qemu:tcp:[ADDR:]PORT")]
    [InlineData("qemu:tcp:99999", "is not PORT, ADDR:PORT or [IPV6]:PORT")]
    [InlineData("tap:x,vlan=5000", "is not a VLAN id")]
    public async Task Bad_port_specs_are_parse_errors_naming_the_allowed_forms(string spec, string expected)
    {
        var result = await TuntapCli.RunAsync("switch", "run", "sw", "--port", spec);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"--port: port '{spec}'", result.StandardError + result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains(expected, result.StandardError + result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_port_that_cannot_be_created_is_one_error_line_and_nothing_is_left_behind()
    {
        await using var scope = await NetnsScope.CreateAsync("swe");
        var result = await TuntapCli.RunAsync("switch", "run", "sw", "--port", $"tap:tt-ok0@{scope.Names[0]}", "--port", "tap:tt-bad0@tt-no-such-netns");
        TuntapCli.AssertUserError(result, "tt-no-such-netns");
        Assert.NotEqual(0, (await NetnsScope.ExecAsync(scope.Names[0], "ip", "link", "show", "tt-ok0")).ExitCode);
    }

    private static string[] PortArgs(NetnsScope scope) =>
        [.. scope.Names.SelectMany((ns, i) => new[] { "--port", $"tap:tt-sw{i}@{ns}" })];

    private static async Task AddressAsync(NetnsScope scope, string prefix)
    {
        for (var i = 0; i < scope.Names.Count; i++)
        {
            (await NetnsScope.ExecAsync(scope.Names[i], "ip", "addr", "add", $"{prefix}.{i + 1}/24", "dev", $"tt-sw{i}")).EnsureSuccess();
        }
    }

    internal static async Task AssertPingAsync(string ns, string target)
    {
        var ping = await ProcessRunner.RunInAsync(ns, "ping", ["-c", "2", "-i", "0.2", "-W", "2", target], TimeSpan.FromSeconds(30));
        Assert.True(ping.ExitCode == 0, $"ping {target} from {ns} failed:\n{ping.StandardOutput}\n{ping.StandardError}");
        Assert.Contains("2 received", ping.StandardOutput, StringComparison.Ordinal);
    }

    private static byte[] Mac(int n) => [0x02, 0, 0, 0, 0, (byte)n];

    /// <summary>A broadcast ARP request from 02:00:00:00:00:NN (as a VM would send it).</summary>
    private static byte[] ArpRequest(int mac, string senderIp, string targetIp)
    {
        var frame = new byte[42];
        frame.AsSpan(0, 6).Fill(0xff);
        Mac(mac).CopyTo(frame, 6);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x0806);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(14), 1); // Ethernet
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(16), 0x0800);
        frame[18] = 6;
        frame[19] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(20), 1); // request
        Mac(mac).CopyTo(frame, 22);
        System.Net.IPAddress.Parse(senderIp).GetAddressBytes().CopyTo(frame, 28);
        System.Net.IPAddress.Parse(targetIp).GetAddressBytes().CopyTo(frame, 38);
        return frame;
    }

    private static async Task<Socket> ConnectAsync(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
        return socket;
    }

    private static async Task SendFrameAsync(Socket socket, byte[] frame)
    {
        var bytes = new byte[4 + frame.Length];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)frame.Length);
        frame.CopyTo(bytes, 4);
        await socket.SendAsync(bytes, SocketFlags.None);
    }

    /// <summary>Inserts an 802.1Q tag after the addresses.</summary>
    private static byte[] Tagged(byte[] frame, int vlan)
    {
        var tagged = new byte[frame.Length + 4];
        frame.AsSpan(0, 12).CopyTo(tagged);
        BinaryPrimitives.WriteUInt16BigEndian(tagged.AsSpan(12), 0x8100);
        BinaryPrimitives.WriteUInt16BigEndian(tagged.AsSpan(14), (ushort)vlan);
        frame.AsSpan(12).CopyTo(tagged.AsSpan(16));
        return tagged;
    }

    private static int VlanOf(byte[] frame) =>
        BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12)) == 0x8100 ? BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(14)) & 0x0FFF : 0;

    /// <summary>The next ARP reply, tagged or not (the namespaces also send IPv6 solicitations on their own).</summary>
    private static async Task<byte[]> ReceiveFrameAsync(Socket socket, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        for (var i = 0; i < 50; i++)
        {
            var header = new byte[4];
            await ReceiveExactlyAsync(socket, header, cts.Token);
            var frame = new byte[BinaryPrimitives.ReadUInt32BigEndian(header)];
            await ReceiveExactlyAsync(socket, frame, cts.Token);
            var arp = VlanOf(frame) == 0 ? 14 : 18;
            if (BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(arp - 2)) == 0x0806 && BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(arp + 6)) == 2)
            {
                return frame;
            }
        }

        throw new InvalidOperationException("no ARP reply among 50 frames");
    }

    private static async Task ReceiveExactlyAsync(Socket socket, byte[] buffer, CancellationToken token)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, token);
            Assert.True(n > 0, "the switch closed the connection");
            read += n;
        }
    }

    private static long PcapRecordCount(string path)
    {
        var bytes = File.ReadAllBytes(path);
        long count = 0;
        for (var offset = 24; offset + 16 <= bytes.Length; count++)
        {
            offset += 16 + (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset + 8));
        }

        return count;
    }

    /// <summary>Parses <c>summary: PORT: label=value ... | PORT: ...</c> into per-port values.</summary>
    internal static Dictionary<string, Dictionary<string, long>> PortSummaries(string output)
    {
        var line = output.Split('\n').LastOrDefault(l => l.StartsWith("summary:", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"no summary line in:\n{output}");
        var result = new Dictionary<string, Dictionary<string, long>>(StringComparer.Ordinal);
        foreach (var part in line["summary:".Length..].Split(" | "))
        {
            var colon = part.IndexOf(": ", StringComparison.Ordinal);
            var values = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (Match m in Field().Matches(part[(colon + 2)..]))
            {
                values[m.Groups[1].Value] = long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
            }

            result[part[..colon].Trim()] = values;
        }

        return result;
    }

    [GeneratedRegex(@"([A-Za-z-]+)=(\d+)")]
    private static partial Regex Field();
}
