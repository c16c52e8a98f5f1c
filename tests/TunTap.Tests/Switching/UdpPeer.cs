using System.Net;
using System.Net.Sockets;
using TunTap.Wire;

namespace TunTap.Tests.Switching;

/// <summary>The far end of a datagram port in unit tests: a UDP socket on loopback, and VXLAN framing for what it sends.</summary>
internal static class UdpPeer
{
    /// <summary>Any free port on 127.0.0.1.</summary>
    public static readonly IPEndPoint AnyLoopback = new(IPAddress.Loopback, 0);

    private static readonly TimeSpan ReceiveTimeout = TimeSpan.FromSeconds(10);

    /// <summary>A UDP socket bound to a free port on <paramref name="address"/> (a loopback address).</summary>
    public static Socket Bound(string address = "127.0.0.1")
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Parse(address), 0));
        return socket;
    }

    /// <summary>The next datagram <paramref name="socket"/> receives (fails after 10 s).</summary>
    public static async Task<byte[]> ReceiveAsync(Socket socket)
    {
        using var cts = new CancellationTokenSource(ReceiveTimeout);
        var buffer = new byte[65536];
        var n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
        return buffer[..n];
    }

    /// <summary><paramref name="frame"/> behind a VXLAN header for <paramref name="vni"/>.</summary>
    public static byte[] Encapsulate(uint vni, byte[] frame)
    {
        var datagram = new byte[VxlanHeader.HeaderLength + frame.Length];
        VxlanHeader.Write(datagram, vni);
        frame.CopyTo(datagram, VxlanHeader.HeaderLength);
        return datagram;
    }
}
