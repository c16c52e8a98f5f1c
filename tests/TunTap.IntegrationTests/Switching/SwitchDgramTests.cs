using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using TunTap.IntegrationTests.Cli;
using TunTap.Netlink;
using TunTap.TestKit;

namespace TunTap.IntegrationTests.Switching;

/// <summary>
/// The <c>qemu:dgram:</c> port with a UDP socket standing in for QEMU's <c>-netdev dgram</c>
/// (one frame per datagram, no length prefix), in a namespace of its own.
/// </summary>
public sealed class SwitchDgramTests
{
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_qemu_dgram_client_gets_arp_replies_from_the_gateway_and_a_tap_namespace()
    {
        await using var scope = await NetnsScope.CreateAsync("swd", 2);
        var (s, t) = (scope.Names[0], scope.Names[1]);
        using var vm = NetworkNamespace.Run(s, () =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            return socket;
        });
        var vmPort = ((IPEndPoint)vm.LocalEndPoint!).Port;
        var spec = $"qemu:dgram:127.0.0.1:4555@{s},remote=127.0.0.1:{vmPort}";
        await using var sw = TuntapCli.Start("switch", "run", scope.NewName(), "--port", spec, "--port", $"tap:tt-dgt@{t}", "--gateway", "10.96.0.1/24", "--stats-interval", "0");
        await sw.WaitForOutputAsync("running with 2 ports", Startup);
        (await NetnsScope.ExecAsync(t, "ip", "addr", "add", "10.96.0.3/24", "dev", "tt-dgt")).EnsureSuccess();

        var to = new IPEndPoint(IPAddress.Loopback, 4555);
        await vm.SendToAsync(ArpRequest(0x42, "10.96.0.42", "10.96.0.1"), to);
        var fromGateway = await ReceiveArpReplyAsync(vm);
        Assert.Equal(new byte[] { 2, 0, 0, 0, 0, 0x42 }, fromGateway[..6]);
        Assert.Equal(new byte[] { 10, 96, 0, 1 }, fromGateway[28..32]);

        await vm.SendToAsync(ArpRequest(0x42, "10.96.0.42", "10.96.0.3"), to);
        var fromTap = await ReceiveArpReplyAsync(vm);
        Assert.Equal(new byte[] { 10, 96, 0, 3 }, fromTap[28..32]);

        // A datagram too short for a frame is counted and dropped; the port keeps working.
        await vm.SendToAsync(new byte[5], to);
        await vm.SendToAsync(ArpRequest(0x42, "10.96.0.42", "10.96.0.1"), to);
        Assert.Equal(new byte[] { 10, 96, 0, 1 }, (await ReceiveArpReplyAsync(vm))[28..32]);

        sw.Signal(2);
        Assert.Equal(0, await sw.WaitForExitAsync(TimeSpan.FromSeconds(15)));
        var port = SwitchCommandTests.PortSummaries(sw.StandardOutput)[$"qemu:dgram:127.0.0.1:4555@{s},remote=127.0.0.1:{vmPort}"];
        Assert.Equal(3, port["rx-frames"]);
        Assert.Equal(4, port["dgram-rx-datagrams"]);
        Assert.Equal(1, port["dgram-runts"]);
        Assert.True(port["dgram-tx-datagrams"] >= 3, sw.StandardOutput);
    }

    /// <summary>A broadcast ARP request from 02:00:00:00:00:NN.</summary>
    internal static byte[] ArpRequest(int mac, string senderIp, string targetIp)
    {
        var frame = new byte[42];
        frame.AsSpan(0, 6).Fill(0xff);
        byte[] source = [2, 0, 0, 0, 0, (byte)mac];
        source.CopyTo(frame, 6);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x0806);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(14), 1);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(16), 0x0800);
        frame[18] = 6;
        frame[19] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(20), 1);
        source.CopyTo(frame, 22);
        IPAddress.Parse(senderIp).GetAddressBytes().CopyTo(frame, 28);
        IPAddress.Parse(targetIp).GetAddressBytes().CopyTo(frame, 38);
        return frame;
    }

    /// <summary>The next ARP reply among the datagrams (the tap namespace also sends IPv6 solicitations on its own).</summary>
    private static async Task<byte[]> ReceiveArpReplyAsync(Socket socket)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var buffer = new byte[65536];
        for (var i = 0; i < 50; i++)
        {
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            if (n >= 42 && BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(12)) == 0x0806 && BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(20)) == 2)
            {
                return buffer[..n];
            }
        }

        throw new InvalidOperationException("no ARP reply among 50 datagrams");
    }
}
