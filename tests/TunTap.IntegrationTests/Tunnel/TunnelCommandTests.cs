using System.Text.Json;
using System.Text.RegularExpressions;
using TunTap.IntegrationTests.Cli;
using TunTap.IntegrationTests.Netlink;
using TunTap.TestKit;

namespace TunTap.IntegrationTests.Tunnel;

/// <summary>
/// Two namespaces joined by a veth (the "underlay", 10.77.0.0/24); <c>tuntap tunnel</c> runs in
/// each and joins a TUN or TAP device in each (the "overlay", 10.9.0.0/24) across it.
/// </summary>
public sealed partial class TunnelCommandTests
{
    private const string ServerUnderlay = "10.77.0.1";
    private const string ServerOverlay = "10.9.0.1";
    private const string ClientOverlay = "10.9.0.2";
    private const string Port = "5555";
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData("tun", "tcp")]
    [InlineData("tun", "udp")]
    [InlineData("tap", "tcp")]
    [InlineData("tap", "udp")]
    public async Task Ping_both_ways_and_a_fixed_size_iperf3_pass_through_the_tunnel_and_the_pcap_reads_cleanly(string mode, string transport)
    {
        Requires.Root();
        Requires.Tool("iperf3");
        Requires.Tool("tshark");
        await using var scope = await UnderlayAsync();
        var (a, b) = (scope.Names[0], scope.Names[1]);
        var pcap = Path.Combine(Path.GetTempPath(), $"{scope.NewName()}.pcap");
        try
        {
            long iperfSent, iperfReceived;
            await using var server = StartServer(a, mode, transport, "--pcap", pcap);
            await using var client = StartClient(b, mode, transport);
            await WaitConnectedAsync(server, 1);
            await WaitConnectedAsync(client, 1);

            await CommandOutput.AssertPingAsync(a, ClientOverlay);
            await CommandOutput.AssertPingAsync(b, ServerOverlay);

            // Over UDP the device's super packets are capped to what one UDP GSO send carries.
            var segments = (await IpJson.LinkAsync(b, "tt-tun0"))!.Value.GetProperty("gso_max_segs").GetInt32();
            Assert.Equal(transport == "udp" ? 44 : 65535, segments);

            await using (var iperfServer = ProcessRunner.StartBackground("ip", ["netns", "exec", a, "iperf3", "-s", "-1", "--forceflush", "-B", ServerOverlay]))
            {
                await iperfServer.WaitForOutputAsync("Server listening", Startup);
                var iperf = await ProcessRunner.RunInAsync(b, "iperf3", ["-c", ServerOverlay, "-n", "20M", "-J"], TimeSpan.FromSeconds(120));
                Assert.True(iperf.ExitCode == 0, $"iperf3 failed:\n{iperf.StandardOutput}\n{iperf.StandardError}\nclient:\n{client.Describe()}");
                (iperfSent, iperfReceived) = IperfBytes(iperf.StandardOutput);
            }

            server.Signal(2);
            client.Signal(2);
            Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(15)));
            Assert.Equal(0, await client.WaitForExitAsync(TimeSpan.FromSeconds(15)));
            var serverSummary = CommandOutput.SummaryOf(server.StandardOutput);
            var clientSummary = CommandOutput.SummaryOf(client.StandardOutput);
            // iperf3 -n counts as sent what its client wrote into its socket and ends the test once
            // 20 MiB are written (in whole blocks), so the receiver counts only what arrived by then (~18.7 MB of
            // 20.97 here): that shortfall is iperf3's accounting, not loss. Every byte the receiver
            // counted crossed the tunnel (rx-bytes also holds IP/TCP headers and the control connection).
            Assert.InRange(iperfSent, 20L * 1024 * 1024, 21L * 1024 * 1024); // whole 128 KiB blocks: may pass 20 MiB by one
            Assert.True(iperfReceived > 15_000_000, $"iperf3 receiver counted {iperfReceived} bytes");
            Assert.True(serverSummary["rx-bytes"] >= iperfReceived, $"iperf3 received {iperfReceived} bytes\n{server.StandardOutput}");
            Assert.True(clientSummary["tx-bytes"] >= iperfReceived, $"iperf3 received {iperfReceived} bytes\n{client.StandardOutput}");
            if (transport == "tcp")
            {
                // A TCP underlay loses nothing: the server took every frame the client sent, up to
                // what was in flight when both were stopped together.
                Assert.InRange(serverSummary["rx-wire-bytes"], clientSummary["tx-wire-bytes"] - (256 * 1024), clientSummary["tx-wire-bytes"]);
            }

            // ACKs flow back; with super packets written to its device the server acks far less often than per 1500 bytes.
            Assert.True(serverSummary["tx-packets"] > 50, server.StandardOutput);

            // The offload path is what carried it: the client's kernel handed over super packets,
            // and the server wrote super packets (whole over TCP, re-coalesced over UDP).
            Assert.True(clientSummary["tx-offload-packets"] > 0, client.StandardOutput);
            Assert.True(serverSummary["rx-offload-packets"] > 0, server.StandardOutput);
            if (transport == "udp")
            {
                Assert.True(clientSummary["segmented-packets"] > 0, client.StandardOutput);
            }
            else
            {
                Assert.Equal(0, clientSummary["segmented-packets"]);
            }

            var read = await ProcessRunner.RunAsync("tshark", ["-n", "-r", pcap, "-Y", "icmp"], TimeSpan.FromSeconds(120));
            Assert.True(read.ExitCode == 0, read.StandardError);
            Assert.DoesNotContain("cut short", read.StandardError, StringComparison.Ordinal);
            Assert.DoesNotContain("Malformed", read.StandardOutput, StringComparison.OrdinalIgnoreCase);
            Assert.True(read.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length >= 12, read.StandardOutput);
        }
        finally
        {
            File.Delete(pcap);
        }
    }

    /// <summary>Bytes the iperf3 client reported sent and the server reported received (<c>-J</c> output).</summary>
    private static (long Sent, long Received) IperfBytes(string json)
    {
        using var report = JsonDocument.Parse(json);
        var end = report.RootElement.GetProperty("end");
        return (end.GetProperty("sum_sent").GetProperty("bytes").GetInt64(), end.GetProperty("sum_received").GetProperty("bytes").GetInt64());
    }

    [Theory]
    [InlineData("tun", "tcp")]
    [InlineData("tap", "tcp")]
    [InlineData("tun", "udp")]
    [InlineData("tap", "udp")]
    [InlineData("tun", "udp", true)]
    public async Task An_end_without_offloads_interoperates_segments_are_cut_and_coalesced_in_user_space(string mode, string transport, bool clientWithoutOffloads = false)
    {
        Requires.Root();
        Requires.Tool("iperf3");
        await using var scope = await UnderlayAsync();
        var (a, b) = (scope.Names[0], scope.Names[1]);
        // Over UDP the end with offloads must send full checksums to the other (partial ones would be dropped by its kernel, and iperf3 would stall).
        await using var server = clientWithoutOffloads ? StartServer(a, mode, transport) : StartServer(a, mode, transport, "--no-offload");
        await using var client = clientWithoutOffloads ? StartClient(b, mode, transport, "--no-offload") : StartClient(b, mode, transport);
        await WaitConnectedAsync(server, 1);
        await WaitConnectedAsync(client, 1);
        await CommandOutput.AssertPingAsync(b, ServerOverlay);

        // Client to server: the client's super packets are cut by the client (the server takes none).
        // Server to client (-R): plain packets, coalesced into super packets before the client's device.
        foreach (var reverse in new[] { false, true })
        {
            await using var iperfServer = ProcessRunner.StartBackground("ip", ["netns", "exec", a, "iperf3", "-s", "-1", "--forceflush", "-B", ServerOverlay]);
            await iperfServer.WaitForOutputAsync("Server listening", Startup);
            string[] args = reverse ? ["-c", ServerOverlay, "-n", "20M", "-R"] : ["-c", ServerOverlay, "-n", "20M"];
            var iperf = await ProcessRunner.RunInAsync(b, "iperf3", args, TimeSpan.FromSeconds(120));
            Assert.True(iperf.ExitCode == 0, $"iperf3 {string.Join(' ', args)} failed:\n{iperf.StandardOutput}\n{iperf.StandardError}\nclient:\n{client.Describe()}\nserver:\n{server.Describe()}");
        }

        server.Signal(2);
        client.Signal(2);
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(15)));
        Assert.Equal(0, await client.WaitForExitAsync(TimeSpan.FromSeconds(15)));
        var (offloadSummary, plainSummary) = clientWithoutOffloads
            ? (CommandOutput.SummaryOf(server.StandardOutput), CommandOutput.SummaryOf(client.StandardOutput))
            : (CommandOutput.SummaryOf(client.StandardOutput), CommandOutput.SummaryOf(server.StandardOutput));
        var serverSummary = CommandOutput.SummaryOf(server.StandardOutput);
        var clientSummary = CommandOutput.SummaryOf(client.StandardOutput);
        Assert.True(offloadSummary["segmented-packets"] > 0, client.StandardOutput + server.StandardOutput);
        Assert.True(offloadSummary["rx-offload-packets"] > 0, client.StandardOutput + server.StandardOutput);
        Assert.Equal(0, plainSummary["tx-offload-packets"]);
        Assert.Equal(0, plainSummary["rx-offload-packets"]);
        foreach (var reason in new[] { "dropped-malformed", "dropped-device-rejected", "dropped-oversize", "dropped-decompress" })
        {
            Assert.Equal(0, serverSummary.GetValueOrDefault(reason));
            Assert.Equal(0, clientSummary.GetValueOrDefault(reason));
        }
        Assert.True(serverSummary["rx-bytes"] > 15_000_000, server.StandardOutput);
        Assert.True(clientSummary["rx-bytes"] > 15_000_000, client.StandardOutput);
    }

    [Theory]
    [InlineData("tcp")]
    [InlineData("udp")]
    public async Task Killed_client_restarted_gets_ping_through_again_without_restarting_the_server(string transport)
    {
        Requires.Root();
        Requires.Tool("iperf3");
        await using var scope = await UnderlayAsync();
        var (a, b) = (scope.Names[0], scope.Names[1]);
        await using var server = StartServer(a, "tun", transport);
        var first = StartClient(b, "tun", transport);
        await WaitConnectedAsync(server, 1);
        await WaitConnectedAsync(first, 1);
        await CommandOutput.AssertPingAsync(b, ServerOverlay);

        // Kill it mid-transfer: SIGKILL, no goodbye.
        await using (var iperfServer = ProcessRunner.StartBackground("ip", ["netns", "exec", a, "iperf3", "-s", "-1", "--forceflush", "-B", ServerOverlay]))
        {
            await iperfServer.WaitForOutputAsync("Server listening", Startup);
            await using var transfer = ProcessRunner.StartBackground("ip", ["netns", "exec", b, "iperf3", "--forceflush", "-c", ServerOverlay, "-t", "30"]);
            await transfer.WaitForOutputAsync("sec", Startup);
            first.Signal(9);
            await first.WaitForExitAsync(TimeSpan.FromSeconds(10));
            await first.DisposeAsync();
        }

        await using var second = StartClient(b, "tun", transport);
        await WaitConnectedAsync(second, 1);
        await WaitConnectedAsync(server, 2);
        await CommandOutput.AssertPingAsync(b, ServerOverlay);
        await CommandOutput.AssertPingAsync(a, ClientOverlay);
        Assert.False(server.HasExited, server.Describe());

        server.Signal(2);
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(15)));
        Assert.True(CommandOutput.SummaryOf(server.StandardOutput)["reconnects"] >= 1, server.StandardOutput);
    }

    [Theory]
    [InlineData("tcp", new[] { "--mode", "tap" }, "mode mismatch: this end is tun, the peer is tap", "mode mismatch: this end is tap, the peer is tun")]
    [InlineData("udp", new[] { "--mode", "tap" }, "mode mismatch: this end is tun, the peer is tap", "mode mismatch: this end is tap, the peer is tun")]
    [InlineData("tcp", new[] { "--mode", "tun", "--mtu", "1400" }, "MTU mismatch: this end has MTU 1500, the peer has MTU 1400", "MTU mismatch: this end has MTU 1400, the peer has MTU 1500")]
    [InlineData("udp", new[] { "--mode", "tun", "--mtu", "1400" }, "MTU mismatch: this end has MTU 1468, the peer has MTU 1400", "MTU mismatch: this end has MTU 1400, the peer has MTU 1468")]
    public async Task Mismatched_ends_both_exit_non_zero_naming_both_values(string transport, string[] clientSettings, string serverMessage, string clientMessage)
    {
        Requires.Root();
        await using var scope = await UnderlayAsync();
        var (a, b) = (scope.Names[0], scope.Names[1]);
        await using var server = StartServer(a, "tun", transport);
        await server.WaitForOutputAsync("tunnel: listening on", Startup);
        await using var client = TuntapCli.Start([
            "tunnel", "tt-tun0", .. clientSettings, "--transport", transport, "--connect", $"{ServerUnderlay}:{Port}",
            "--address", $"{ClientOverlay}/24", "--netns", b, "--stats-interval", "0"]);

        Assert.NotEqual(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.NotEqual(0, await client.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains($"tuntap: error: {serverMessage}", server.StandardError, StringComparison.Ordinal);
        Assert.Contains($"tuntap: error: {clientMessage}", client.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", server.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", client.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Garbage_peer_is_dropped_with_a_reason_and_the_next_client_is_served()
    {
        Requires.Root();
        await using var scope = await UnderlayAsync();
        var (a, b) = (scope.Names[0], scope.Names[1]);
        await using var server = StartServer(a, "tun", "tcp");
        await server.WaitForOutputAsync("tunnel: listening on", Startup);

        // The write may fail part-way (the server resets the connection once it has seen enough): only the server's log matters.
        await ProcessRunner.RunInAsync(b, "bash", ["-c", $"head -c 1000 /dev/urandom > /dev/tcp/{ServerUnderlay}/{Port}"], TimeSpan.FromSeconds(30));
        await Wait.UntilAsync(() => DroppedLines(server).Count >= 1, TimeSpan.FromSeconds(15), server.Describe);
        await ProcessRunner.RunInAsync(b, "bash", ["-c", $"printf '\\x01\\x00\\xff\\xff' > /dev/tcp/{ServerUnderlay}/{Port}"], TimeSpan.FromSeconds(30));
        await Wait.UntilAsync(() => DroppedLines(server).Count >= 2, TimeSpan.FromSeconds(15), server.Describe);
        Assert.Contains(DroppedLines(server), l => l.Contains("frame length 65535 exceeds the maximum 1500", StringComparison.Ordinal));

        // A valid hello (tun, MTU 1500, no compression), then a frame of an unknown type: the
        // connection is up by then, and the thread that drives it drops it with the reason.
        const string helloThenGarbage = @"\x01\x00\x00\x0a\x54\x54\x55\x4e\x02\x00\x00\x00\x05\xdc\x07\x00\x00\x04abcd";
        await ProcessRunner.RunInAsync(b, "bash", ["-c", $"printf '{helloThenGarbage}' > /dev/tcp/{ServerUnderlay}/{Port}; sleep 1"], TimeSpan.FromSeconds(30));
        await Wait.UntilAsync(() => DroppedLines(server).Count >= 3, TimeSpan.FromSeconds(15), server.Describe);
        Assert.Contains(DroppedLines(server), l => l.Contains("not a tunnel peer: unknown frame type 7", StringComparison.Ordinal));

        await using var client = StartClient(b, "tun", "tcp");
        await WaitConnectedAsync(server, 1);
        await WaitConnectedAsync(client, 1);
        await CommandOutput.AssertPingAsync(b, ServerOverlay);
        Assert.False(server.HasExited);
    }

    [Fact]
    public async Task The_tcp_connection_uses_the_congestion_control_asked_for_and_an_unknown_one_falls_back_with_a_log_line()
    {
        Requires.Root();
        await using var scope = await UnderlayAsync();
        var (a, b) = (scope.Names[0], scope.Names[1]);
        await using var server = StartServer(a, "tun", "tcp", "--congestion-control", "reno");
        await using var client = StartClient(b, "tun", "tcp", "--congestion-control", "no_such_cc");
        await WaitConnectedAsync(server, 1);
        await WaitConnectedAsync(client, 1);
        await CommandOutput.AssertPingAsync(b, ServerOverlay);

        // ss -ti prints each connection's congestion control on its detail line.
        var serverSide = await ProcessRunner.RunInAsync(a, "ss", ["-tin", "state", "established", "sport", $"= :{Port}"], TimeSpan.FromSeconds(30));
        Assert.Contains(" reno ", serverSide.StandardOutput, StringComparison.Ordinal);
        var clientSide = await ProcessRunner.RunInAsync(b, "ss", ["-tin", "state", "established", "dport", $"= :{Port}"], TimeSpan.FromSeconds(30));
        Assert.DoesNotContain(" reno ", clientSide.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("congestion control 'no_such_cc' is not available", client.StandardOutput, StringComparison.Ordinal);

        var bad = await TuntapCli.RunAsync("tunnel", "tt-x0", "--mode", "tun", "--listen", "5555", "--congestion-control", "no such");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("congestion control 'no such' is not a valid name", bad.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", bad.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("5555:", "--listen")]
    [InlineData("fd00::1:5555", "--listen")]
    [InlineData("host", "--connect")]
    public async Task Bad_endpoints_are_parse_errors_naming_the_allowed_form(string value, string option)
    {
        var result = await TuntapCli.RunAsync("tunnel", "tt-x0", "--mode", "tun", option, value);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"{option}: '{value}'", result.StandardError + result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("PORT", result.StandardError + result.StandardOutput, StringComparison.Ordinal);
    }

    private static List<string> DroppedLines(BackgroundProcess process) =>
        [.. process.StandardOutput.Split('\n').Where(l => l.Contains("dropped:", StringComparison.Ordinal))];

    private static async Task<NetnsScope> UnderlayAsync()
    {
        var scope = await NetnsScope.CreateAsync("tnl", 2);
        await scope.ConnectAsync(scope.Names[0], $"{ServerUnderlay}/24", scope.Names[1], "10.77.0.2/24");
        return scope;
    }

    private static BackgroundProcess StartServer(string ns, string mode, string transport, params string[] extra) =>
        TuntapCli.Start([
            "tunnel", "tt-tun0", "--mode", mode, "--transport", transport, "--listen", $"{ServerUnderlay}:{Port}",
            "--address", $"{ServerOverlay}/24", "--netns", ns, "--stats-interval", "0", .. extra]);

    private static BackgroundProcess StartClient(string ns, string mode, string transport, params string[] extra) =>
        TuntapCli.Start([
            "tunnel", "tt-tun0", "--mode", mode, "--transport", transport, "--connect", $"{ServerUnderlay}:{Port}",
            "--address", $"{ClientOverlay}/24", "--netns", ns, "--stats-interval", "0", .. extra]);

    private static async Task WaitConnectedAsync(BackgroundProcess process, int times)
    {
        await Wait.UntilAsync(() => Connected().Count(process.StandardOutput) >= times || process.HasExited, Startup, process.Describe);
        Assert.False(process.HasExited, $"exited early:\n{process.Describe()}");
    }



    [GeneratedRegex(@"tunnel: peer \S+ connected")]
    private static partial Regex Connected();

}
