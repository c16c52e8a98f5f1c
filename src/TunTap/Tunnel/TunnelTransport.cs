namespace TunTap.Tunnel;

/// <summary>The socket a tunnel carries its frames over.</summary>
public enum TunnelTransport
{
    /// <summary>One TCP connection; frames carry a length prefix.</summary>
    Tcp,

    /// <summary>UDP; one packet per datagram.</summary>
    Udp,
}
