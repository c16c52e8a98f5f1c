using System.Net;

namespace TunTap.WireGuard;

/// <summary>Settings of a <see cref="WireGuardInterface"/> that UAPI does not change.</summary>
public sealed class WireGuardInterfaceOptions
{
    /// <summary>The tunnel MTU.</summary>
    public int Mtu { get; init; } = 1420;

    /// <summary>Clock for timers and handshake times.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>
    /// Binds the UDP transport to a port (0: any free port); the default is a dual-stack socket on
    /// every address, or IPv4 only where IPv6 is disabled.
    /// </summary>
    public Func<int, IUdpTransport> BindTransport { get; init; } = BindDualStack;

    /// <summary>
    /// The default <see cref="BindTransport"/>: a dual-stack UDP socket on every address, or IPv4
    /// only where IPv6 is disabled, in the calling thread's network namespace.
    /// </summary>
    public static UdpSocketTransport BindDualStack(int port)
    {
        try
        {
            return UdpSocketTransport.Bind(new IPEndPoint(IPAddress.IPv6Any, port));
        }
        catch (System.Net.Sockets.SocketException e) when (e.SocketErrorCode is System.Net.Sockets.SocketError.AddressFamilyNotSupported or System.Net.Sockets.SocketError.AddressNotAvailable)
        {
            return UdpSocketTransport.Bind(new IPEndPoint(IPAddress.Any, port));
        }
    }
}
