using System.Net;
using System.Net.Sockets;
using TunTap.Netlink;

namespace TunTap.Switching;

/// <summary>Binds the UDP socket of a datagram switch port (QEMU dgram, VXLAN), in a named network namespace when one is given.</summary>
internal static class UdpPortSocket
{
    /// <summary>Binds a UDP socket of <paramref name="local"/>'s family to it, in <paramref name="netns"/> if not null.</summary>
    /// <param name="local">Where the port receives.</param>
    /// <param name="netns">The named network namespace whose stack carries the datagrams, or null for the caller's.</param>
    /// <param name="portKind">What the socket is for, in the error message (<c>a vxlan port</c>).</param>
    /// <param name="hint">The fix to suggest for a failed bind.</param>
    /// <exception cref="TunTapException">The address cannot be bound or the namespace does not exist.</exception>
    public static Socket Bind(IPEndPoint local, string? netns, string portKind, Func<SocketException, string> hint)
    {
        Socket BindHere()
        {
            var socket = new Socket(local.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                socket.Bind(local);
                return socket;
            }
            catch (SocketException e)
            {
                socket.Dispose();
                throw new TunTapException($"cannot bind UDP {local} for {portKind}{(netns is null ? "" : $" in namespace '{netns}'")}: {e.Message}", hint(e), e);
            }
        }

        return netns is null ? BindHere() : NetworkNamespace.Run(netns, BindHere);
    }
}
