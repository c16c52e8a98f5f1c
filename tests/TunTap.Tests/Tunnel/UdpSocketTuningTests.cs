using System.Net.Sockets;
using TunTap.Tunnel;

namespace TunTap.Tests.Tunnel;

public sealed class UdpSocketTuningTests
{
    [Fact]
    public void Udp_socket_tuning_raises_the_kernel_receive_buffer_above_the_default()
    {
        // Raw options take Linux numbers: SOL_SOCKET is 1, not .NET's SocketOptionLevel.Socket (0xffff),
        // which the kernel refuses with ENOPROTOOPT and left the buffer at its default.
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var receiveBefore = socket.ReceiveBufferSize;

        TunnelEndpoint.TuneUdpSocket(socket);

        // With CAP_NET_ADMIN the forced size (4 MiB, doubled by the kernel); without, SO_RCVBUF
        // capped at rmem_max (doubled), which is still above the default.
        Assert.True(socket.ReceiveBufferSize > receiveBefore, $"receive buffer {receiveBefore} -> {socket.ReceiveBufferSize}");
        if (Environment.UserName == "root")
        {
            Assert.Equal(8 << 20, socket.ReceiveBufferSize);
        }
    }
}
